"""Issue 14: what a cycle costs the database: WAL writes, one read of every source's state per cycle."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import event, text
from sqlmodel import Session, select

from monitor.archive import Archive
from monitor.config import load_config
from monitor.core import FetchResult
from monitor.store import Fetch, SourceStatus, Version, fetch_states, open_db, record_fetch
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


# What only other commands, or only a first start, need: an unchanged cycle must not pay to import it.
NOT_FOR_A_STEADY_CYCLE = ("alembic", "aiohttp", "jinja2", "yaml", "tomlkit", "dateparser", "bs4", "soupsieve",
                          "scrapy.extensions.remote_control", "monitor.digest", "monitor.web",
                          "monitor.schedule.daemon", "monitor.config.edit", "monitor.config.importers",
                          "monitor.store.reextract", "redis", "scrapy_redis", "tldextract", "twisted.conch")
LOADED_MODULES = """
import atexit, json, runpy, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["noticewatch", *sys.argv[1:]]
runpy.run_module("monitor", run_name="__main__")
"""


def test_a_steady_cycle_imports_only_what_crawling_needs(site, config_path):
    """Start-up is most of a small cycle's cost (issue 14): the web server's, the digests', the
    importers' and Alembic's modules stay unloaded when the schema is current and nothing is due."""
    assert run_cli(config_path, "run").returncode == 0  # builds the database (Alembic runs here)
    result = subprocess.run([sys.executable, "-c", LOADED_MODULES, "--config", str(config_path), "run", "--json"],
                            capture_output=True, text=True, timeout=180, cwd=config_path.parent, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["unchanged"] == 5
    modules = json.loads(result.stderr.rsplit("MODULES ", 1)[1])
    assert "scrapy" in modules and "monitor.store.record" in modules  # the cycle did run here
    loaded = sorted(m for m in modules for unwanted in NOT_FOR_A_STEADY_CYCLE
                    if m == unwanted or m.startswith(unwanted + "."))
    assert loaded == []


def test_a_source_without_a_version_sends_no_validators(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'nw.db'}")
    with Session(engine) as session:
        assert fetch_states(session, ["nothing"]) == {}


def test_an_unchanged_fetch_of_the_last_good_body_is_three_statements_and_one_commit(site, config_path):
    # The crawl's one writer thread commits every fetch: the common one must stay cheap (issue 14: the
    # commit per fetch stays, for crash safety; the statements around it are few and plain).
    assert run_cli(config_path, "run", "--json").returncode == 0
    loaded = load_config(config_path)
    engine = open_db(loaded.database_url)
    source = loaded.config.sources_named(["ismt"])[0]
    with Session(engine) as session:
        last = session.exec(select(Fetch).where(Fetch.source_id == "ismt").order_by(Fetch.id.desc())).first()
    archive = Archive(loaded.snapshots_dir)
    body = archive.get(last.blob_sha256)
    item = FetchResult(source_id="ismt", url=source.url, final_url=source.url, fetched_at=datetime.now(UTC),
                       status=200, headers={"Content-Type": "text/html"}, body=body, same_body=True)
    item.archived = archive.put(body)
    statements: list[str] = []
    commits: list[object] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(engine, "commit", commits.append)
    result = record_fetch(engine, item, source, cycle_id="again")
    assert result.outcome == "unchanged" and result.version_number == 1
    assert len(statements) == 3 and len(commits) == 1, statements
    with Session(engine) as session:
        fetch = session.exec(select(Fetch).where(Fetch.cycle_id == "again")).one()
        assert (fetch.outcome, fetch.blob_sha256, fetch.content_type) == ("unchanged", last.blob_sha256, "text/html")
        assert session.get(SourceStatus, "ismt").state == "ok"
