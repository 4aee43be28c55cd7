"""Issue 14: what a cycle costs the database: WAL writes, one read of every source's state per cycle."""

from __future__ import annotations

import json

from sqlalchemy import event, text
from sqlmodel import Session, select

from monitor.config import load_config
from monitor.store import Fetch, Version, fetch_states, open_db
from tests.support import run_cli


def test_sqlite_writes_in_wal_mode_with_normal_sync(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'nw.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_every_sources_validators_and_standing_come_in_one_query(site, config_path):
    result = run_cli(config_path, "run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["new"] == 5
    engine = open_db(load_config(config_path).database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        fetch_states(session, list(site.pages)[:1])
        one = len(statements)
        statements.clear()
        states = fetch_states(session, list(site.pages))
    # A constant number of reads per cycle, whatever the number of sources: the states, and the
    # volatile sites learned per source (issue 13), each in one query.
    assert len(statements) == one <= 2
    with Session(engine) as session:
        versions = {v.source_id: v for v in session.exec(select(Version))}
        fetches = {f.source_id: f for f in session.exec(select(Fetch))}
    assert set(states) == set(site.pages)
    for source_id, state in states.items():
        assert state.previous_chars == versions[source_id].chars
        assert state.etag == fetches[source_id].etag and state.etag
        assert state.conditional_headers()["If-None-Match"] == state.etag
        assert state.moved_to is None and state.discovered_url is None


def test_a_source_without_a_version_sends_no_validators(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'nw.db'}")
    with Session(engine) as session:
        assert fetch_states(session, ["nothing"]) == {}
