"""The clause differ through storage and the surfaces: flags, dates, cosmetic hiding, `changes --json`
v2 against its JSON Schema, and `diff` piped and on a terminal, after real crawl cycles."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.store.db import open_db
from monitor.store.models import Change, Version
from tests.support import REPO, run_cli

SCHEMA = json.loads((REPO / "docs" / "changes.schema.json").read_text("utf-8"))
DATE_OLD, DATE_NEW = "geldig per 22-12-2020", "geldig per 05-01-2021"
FUTURE_YEAR = datetime.now(UTC).year + 2  # later than the fetch time (dates beyond +5 years are implausible)
FUTURE_DATE = f"geldig per 05-01-{FUTURE_YEAR}"
CLAUSE_OLD = "Wij streven ernaar om binnen de grenzen van de wet zorgvuldig"
CLAUSE_NEW = "Wij streven ernaar om binnen de grenzen van de wet niet zorgvuldig"
# Cosmetic only: straight quotes become curly ones, and a word changes case.
QUOTES_OLD, QUOTES_NEW = "de link 'meer details'.", "de link \u2018meer details\u2019."
CASE_OLD, CASE_NEW = "is 'Verwerkingsverantwoordelijke' in de zin", "is 'verwerkingsverantwoordelijke' in de zin"


def _run(config: Path, *sources: str) -> None:
    args = [a for s in sources for a in ("--source", s)]
    result = run_cli(config, "run", *args)
    assert result.returncode == 0, result.stderr


def _changes(config: Path, *args: str) -> list[dict]:
    result = run_cli(config, "changes", "--json", *args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document["changes"]


@pytest.fixture
def ismt_history(site, config_path):
    """ismt: v1 as served, v2 date bumped only, v3 a clause reworded under the same date, v4 cosmetic."""
    _run(config_path, "ismt", "cetit")
    site.edit("ismt", DATE_OLD, DATE_NEW)
    _run(config_path, "ismt")
    site.edit("ismt", CLAUSE_OLD, CLAUSE_NEW)
    _run(config_path, "ismt")
    site.edit("ismt", QUOTES_OLD, QUOTES_NEW)
    site.edit("ismt", CASE_OLD, CASE_NEW)
    _run(config_path, "ismt")
    return config_path


def test_flags_dates_and_cosmetic_hiding_after_real_cycles(ismt_history):
    engine = open_db(load_config(ismt_history).database_url)
    with Session(engine) as session:
        versions = session.exec(select(Version).where(Version.source_id == "ismt").order_by(Version.number)).all()
        cetit = session.exec(select(Version).where(Version.source_id == "cetit")).one()
        stored = session.exec(select(Change).order_by(Change.id)).all()
    engine.dispose()
    assert [v.number for v in versions] == [1, 2, 3, 4]  # the cosmetic version is kept
    first_date = json.loads(versions[0].notice_date_json)
    assert (first_date["value"], first_date["precision"]) == ("2020-12-22", "day")
    assert first_date["sentence"] == "Deze privacyverklaring is voor het laatst gewijzigd op en geldig per 22-12-2020."
    month = json.loads(cetit.notice_date_json)
    assert (month["value"], month["precision"], month["display"]) == ("2018-05-01", "month", "2018-05")
    assert all(json.loads(c.flags_json).keys() >= {"date_changed", "silent_change"} for c in stored)

    reported = _changes(ismt_history)
    assert [(c["old_version"], c["new_version"]) for c in reported] == [(1, 2), (2, 3)]
    bump, silent = reported
    assert bump["flags"]["date_only"] and not bump["flags"]["silent_change"]
    assert bump["flags"]["date_changed"]["old"]["value"] == "2020-12-22"
    assert bump["flags"]["date_changed"]["new"]["value"] == "2021-01-05"
    assert (bump["old_date"]["display"], bump["new_date"]["display"]) == ("2020-12-22", "2021-01-05")
    assert bump["significance"] == "minor" and bump["counts"]["modified"] == 1
    assert bump["clauses"][0]["inline_text"].endswith("[-22-12-2020-]{+05-01-2021+}.")
    assert silent["flags"]["silent_change"] and silent["flags"]["date_changed"] is False
    assert not silent["flags"]["date_only"] and silent["significance"] == "material"
    [clause] = silent["clauses"]
    assert clause["kind"] == "modified" and "{+niet +}" in clause["inline_text"]
    assert "<ins>niet </ins>" in clause["inline_html"] and clause["tags"] and clause["significance"] == "material"
    assert clause["heading_path"] == ["PRIVACYVERKLARING ISMT B.V."]

    everything = _changes(ismt_history, "--all")
    assert [c["new_version"] for c in everything] == [2, 3, 4]
    cosmetic = everything[-1]
    assert cosmetic["cosmetic_only"] and cosmetic["significance"] == "cosmetic"
    assert cosmetic["counts"]["cosmetic"] >= 1 and sum(cosmetic["counts"].values()) == cosmetic["counts"]["cosmetic"]
    assert not any(cosmetic["flags"][name] for name in ("date_changed", "silent_change", "date_only"))
    assert [c["new_version"] for c in _changes(ismt_history, "--min-significance", "material")] == [3]

    text = run_cli(ismt_history, "changes").stdout
    assert "v3 → v4" not in text and "silent change" in text and "date only" in text
    assert "v3 → v4" in run_cli(ismt_history, "changes", "--all").stdout


def _pty_run(args: list[str]) -> tuple[int, str]:
    """Run `noticewatch` with stdout on a pseudo-terminal, as a person at a terminal would."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", *args], stdout=slave, stderr=subprocess.PIPE,
                            cwd=REPO, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_diff_plain_when_piped_coloured_on_a_terminal_and_clear_errors(site, config_path):
    _run(config_path, "ismt")
    site.edit("ismt", CLAUSE_OLD, CLAUSE_NEW)
    site.edit("ismt", DATE_OLD, FUTURE_DATE)
    _run(config_path, "ismt")

    piped = run_cli(config_path, "diff", "ismt")
    assert piped.returncode == 0, piped.stderr
    assert "\x1b[" not in piped.stdout
    assert "v1 → v2" in piped.stdout and f"date 2020-12-22 → {FUTURE_YEAR}-01-05; date in future" in piped.stdout
    assert "{+niet +}zorgvuldig" in piped.stdout and f"[-22-12-2020-]{{+05-01-{FUTURE_YEAR}+}}" in piped.stdout
    assert run_cli(config_path, "diff", "ismt", "1", "2").stdout == piped.stdout
    assert "have the same text" in run_cli(config_path, "diff", "ismt", "2", "2").stdout

    code, screen = _pty_run(["--config", str(config_path), "diff", "ismt"])
    assert code == 0
    assert "\x1b[" in screen and "niet" in screen
    assert "{+" not in screen and "[-" not in screen

    as_json = json.loads(run_cli(config_path, "diff", "ismt", "--json").stdout)
    jsonschema.validate(as_json, SCHEMA)
    [record] = as_json["changes"]
    assert record["id"] is None and record["counts"]["modified"] == 2
    assert record["flags"]["date_in_future"] and not record["flags"]["date_only"]
    assert record["flags"] == json.loads(run_cli(config_path, "changes", "--json").stdout)["changes"][0]["flags"]

    for args, message in ((["nobody"], "noticewatch: unknown source 'nobody'"),
                          (["ismt", "1", "9"], "noticewatch: ismt: no version 9"),
                          (["cetit"], "noticewatch: cetit: 0 version(s), nothing to compare")):
        result = run_cli(config_path, "diff", *args)
        assert result.returncode == 1 and result.stderr.strip() == message and result.stdout == ""
