"""Issue 14: a body equal to the last good one is not parsed again; versions record their extraction rules,
and a previous version made by other rules is re-derived before comparing."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from monitor.config import load_config
from monitor.core import FetchResult
from monitor.devtools import NoticeSite
from monitor.extract import EXTRACTION_RULES, rules_version
from monitor.store import Change, Fetch, Version, fetch_states, open_db, record_fetch, session_scope
from tests.support import run_cli


def _run(config: Path) -> dict:
    result = run_cli(config, "run", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rules_version_names_a_sources_own_selectors():
    assert rules_version() == EXTRACTION_RULES
    own = rules_version(select=["main"])
    assert own.startswith(EXTRACTION_RULES + "+") and own != rules_version(remove=["main"])
    assert len(own) <= 40


def test_an_unchanged_body_is_recorded_unchanged_without_parsing(tmp_path, db_url):
    with NoticeSite(validators=False) as site:  # no ETag: every cycle downloads every body again
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
        assert _run(config)["new"] == 5
        second = _run(config)
    assert second["unchanged"] == 5 and second["changed"] == 0 and second["failed"] == {}
    loaded = load_config(config)
    engine = open_db(loaded.database_url)
    with Session(engine) as session:
        versions = session.exec(select(Version)).all()
        fetches = session.exec(select(Fetch).order_by(Fetch.id)).all()
        states = fetch_states(session)
    assert len(versions) == 5 and {v.rules for v in versions} == {EXTRACTION_RULES}
    last = {f.source_id: f for f in fetches}
    for source_id, state in states.items():
        assert state.same_as_last_good(last[source_id].blob_sha256, EXTRACTION_RULES)
        assert not state.same_as_last_good(last[source_id].blob_sha256, "2025.1.1")
    # The record stage trusts `same_body`: it does not parse the body at all (this one would be "tiny").
    source = loaded.config.sources_named(["ismt"])[0]
    item = FetchResult(source_id="ismt", url=source.url, fetched_at=datetime.now(UTC), status=200,
                     body=b"<html><body>x</body></html>", same_body=True)
    assert record_fetch(engine, item, source).outcome == "unchanged"
    with session_scope(engine) as session:  # a version made by other rules: the body is parsed again
        for version in session.exec(select(Version)):
            version.rules = "2025.1.1"
            session.add(version)
    with Session(engine) as session:
        assert not any(s.same_as_last_good(last[sid].blob_sha256, EXTRACTION_RULES)
                       for sid, s in fetch_states(session).items())
    assert record_fetch(engine, item, source).outcome == "failed"  # parsed: "empty or tiny body"


UPGRADED_CYCLE = """
import json, sys
import monitor.extract.html, monitor.extract.noise
from monitor.config import load_config
from monitor.schedule import run_cycle

monitor.extract.html.EXTRACTION_RULES = "2099.1.1"  # an upgrade of noticewatch: new rules, one rule behaves anew

@monitor.extract.noise.rule("upgraded-wording", "text")
def upgraded(text):
    return text.replace("persoonsgegevens", "persoonlijke gegevens")

print(json.dumps(run_cycle(load_config(sys.argv[1])).to_dict()))
"""


def _run_upgraded(config: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", UPGRADED_CYCLE, str(config)], capture_output=True, text=True,
                            timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_upgrade_of_the_rules_reports_no_change_on_an_unchanged_page(tmp_path, db_url):
    with NoticeSite(validators=False) as site:
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
        assert _run(config)["new"] == 5  # rules A
        engine = open_db(load_config(config).database_url)
        with Session(engine) as session:
            before = {v.source_id: v.markdown for v in session.exec(select(Version))}
        upgraded = _run_upgraded(config)  # rules B, the same pages
        assert upgraded["unchanged"] == 5 and upgraded["changed"] == 0, upgraded
        with Session(engine) as session:
            after = {v.source_id: v for v in session.exec(select(Version))}
            changes = session.exec(select(Change)).all()
        assert changes == [] and len(after) == 5
        assert {v.rules for v in after.values()} == {"2099.1.1"}  # re-derived in place, same rows
        rewritten = [sid for sid, v in after.items() if v.markdown != before[sid]]
        assert rewritten and all("persoonsgegevens" not in after[sid].markdown for sid in rewritten)
        site.edit("ismt", "persoonsgegevens", "gegevens van klanten")  # and a real edit is still a change
        edited = _run_upgraded(config)
    assert edited["changed"] == 1 and edited["unchanged"] == 4, edited
