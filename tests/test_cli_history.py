"""history, show and changes as a user runs them, after real crawl cycles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import run_cli

EDIT_OLD = "Wij streven ernaar om binnen de grenzen van de wet zorgvuldig"
EDIT_NEW = "Wij streven ernaar om binnen de grenzen van de wet uiterst zorgvuldig"


@pytest.fixture
def two_versions(site, config_path):
    """ismt crawled twice with one clause edited in between."""
    assert run_cli(config_path, "run", "--source", "ismt").returncode == 0
    site.edit("ismt", EDIT_OLD, EDIT_NEW)
    assert run_cli(config_path, "run", "--source", "ismt").returncode == 0
    return config_path


def test_history_lists_versions_with_times_and_sizes(two_versions):
    result = run_cli(two_versions, "history", "ismt", "--json")
    assert result.returncode == 0, result.stderr
    versions = json.loads(result.stdout)["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["chars"] == versions[0]["chars"] + len(" uiterst")
    assert all(v["created_at"].endswith("Z") for v in versions)
    text = run_cli(two_versions, "history", "ismt").stdout.splitlines()
    assert text[0].startswith("v1 ") and text[1].startswith("v2 ") and "chars" in text[0]


def test_show_prints_markdown_of_a_version_by_number_and_at_a_time(two_versions):
    first = run_cli(two_versions, "show", "ismt", "--version", "1")
    latest = run_cli(two_versions, "show", "ismt")
    assert first.returncode == 0 and latest.returncode == 0
    assert EDIT_OLD in first.stdout and EDIT_NEW not in first.stdout
    assert EDIT_NEW in latest.stdout
    assert first.stdout.startswith("# ")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert run_cli(two_versions, "show", "ismt", "--at", tomorrow).stdout == latest.stdout
    before = run_cli(two_versions, "show", "ismt", "--at", "2001-01-01")
    assert before.returncode == 1
    assert before.stderr.strip() == "noticewatch: ismt: no version yet at 2001-01-01"


def test_show_unknown_version_and_bad_date_are_clear_errors(two_versions):
    missing = run_cli(two_versions, "show", "ismt", "--version", "9")
    assert missing.returncode == 1 and "no version 9" in missing.stderr
    bad = run_cli(two_versions, "show", "ismt", "--at", "next tuesday")
    assert bad.returncode == 2 and "--at" in bad.stderr
    unknown = run_cli(two_versions, "history", "nobody")
    assert unknown.returncode == 1 and "unknown source 'nobody'" in unknown.stderr


def test_changes_text_and_since_filter(two_versions):
    text = run_cli(two_versions, "changes")
    assert text.returncode == 0
    assert "ismt" in text.stdout and "v1 → v2" in text.stdout and "uiterst" in text.stdout
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    none = run_cli(two_versions, "changes", "--since", later, "--json")
    assert json.loads(none.stdout)["changes"] == []
    other = run_cli(two_versions, "changes", "--source", "cetit", "--json")
    assert json.loads(other.stdout)["changes"] == []
