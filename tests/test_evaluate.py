"""The proof of issue 5: the fixture evaluation meets its targets, and its fixtures have teeth."""

from __future__ import annotations

import random

from bs4 import BeautifulSoup

from monitor.devtools.evaluate import DEFAULT_FIXTURES, Fixtures, clean_page, evaluate, notice_markup
from tests.support import run_cli


def test_evaluation_meets_the_targets_on_every_fixture():
    outcome = evaluate()
    assert outcome.noisy >= 150 and outcome.edits >= 25 and outcome.suspicious >= 12
    assert outcome.false_changes == [] and outcome.false_suspicions == []
    assert outcome.missed == []
    assert outcome.caught == outcome.suspicious, outcome.uncaught


def _naive_text(body: bytes) -> str:
    return " ".join(BeautifulSoup(body, "lxml").get_text(" ").split())


def test_noise_templates_really_change_the_page_text_between_requests():
    """A naive extractor (all text of the page) would report a change or lose text on every noise fixture."""
    fixtures = Fixtures(DEFAULT_FIXTURES)
    clean = _naive_text(clean_page("ismt"))
    for template in fixtures.templates("noise"):
        bodies = [fixtures.render(template, random.Random(f"teeth:{n}"), notice=notice_markup("ismt"), company="ISMT")
                  for n in range(2)]
        assert bodies[0] != bodies[1], template
        naive = [_naive_text(body) for body in bodies]
        assert naive[0] != naive[1] or naive[0] != clean, template


def test_evaluate_command_prints_the_figures():
    result = run_cli(None, "evaluate", "--seed", "cetit")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("false changes: 0 of ")
    assert "missed changes: 0 of " in result.stdout and "suspicious fetches caught: 14 of 14" in result.stdout


def test_rules_command_lists_every_rule():
    result = run_cli(None, "rules")
    assert result.returncode == 0
    for name in ("consent-banners", "cloudflare-email", "tracking-parameters", "page-meta", "typography"):
        assert f"{name} (" in result.stdout
