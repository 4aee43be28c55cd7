"""Per-source crawl locks in the database: atomic on SQLite and PostgreSQL, expiring when a holder dies,
and `noticewatch run` refusing (or skipping) sources another run holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from monitor.core import ExitCode
from monitor.store.db import open_db
from monitor.store.lock import CrawlLock, acquire, claim_sources, holders, lock_name, release, renew
from monitor.store.models import Fetch
from tests.support import REPO, run_cli

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url):
    engine = open_db(db_url)
    yield engine
    engine.dispose()


def test_a_held_lock_is_refused_until_it_expires(engine):
    assert acquire(engine, "source:a", "host1:1:x", ttl=60, now=T0)
    assert acquire(engine, "source:a", "host1:1:x", ttl=60, now=T0)  # re-entrant for its owner
    assert not acquire(engine, "source:a", "host2:2:y", ttl=60, now=T0 + timedelta(seconds=59))
    # the holder was killed: no heartbeat, so after the TTL anyone may take over
    assert acquire(engine, "source:a", "host2:2:y", ttl=60, now=T0 + timedelta(seconds=61))
    assert holders(engine, ["source:a"])["source:a"].owner == "host2:2:y"
    assert renew(engine, ["source:a"], "host1:1:x", ttl=60, now=T0 + timedelta(seconds=62)) == 0  # it lost it
    release(engine, ["source:a"], "host1:1:x")  # a late release by the old holder takes nothing away
    assert holders(engine, ["source:a"])["source:a"].owner == "host2:2:y"


def test_a_heartbeat_keeps_a_lock_alive(engine):
    assert acquire(engine, "source:a", "me", ttl=60, now=T0)
    assert renew(engine, ["source:a"], "me", ttl=60, now=T0 + timedelta(seconds=50)) == 1
    assert not acquire(engine, "source:a", "other", ttl=60, now=T0 + timedelta(seconds=100))
    assert acquire(engine, "source:a", "other", ttl=60, now=T0 + timedelta(seconds=111))


@pytest.mark.parametrize("expired", [False, True])
def test_concurrent_contenders_exactly_one_wins(engine, expired):
    if expired:
        assert acquire(engine, "source:a", "dead", ttl=1, now=datetime.now(UTC) - timedelta(minutes=5))
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def contend(n: int) -> None:
        barrier.wait()
        if acquire(engine, "source:a", f"contender-{n}", ttl=60):
            wins.append(f"contender-{n}")

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert holders(engine, ["source:a"])["source:a"].owner == wins[0]


def test_claim_takes_free_sources_skips_held_ones_and_releases_after(engine):
    assert acquire(engine, lock_name("b"), "elsewhere:9:z", ttl=600)
    with claim_sources(engine, ["a", "b", "c"], ttl=600) as claim:
        assert claim.held == ["a", "c"] and list(claim.skipped) == ["b"]
        assert "b (locked by elsewhere:9:z until " in claim.skipped_message()
        assert set(holders(engine, ["source:a", "source:c"])) == {"source:a", "source:c"}
    assert set(holders(engine, ["source:a", "source:b", "source:c"])) == {"source:b"}


def test_second_run_exits_with_a_clear_message_while_every_source_is_locked(engine, config_path, site):
    for source_id in site.pages:
        assert acquire(engine, lock_name(source_id), "other-host:4242:abcd", ttl=600)
    result = run_cli(config_path, "run")
    assert result.returncode == ExitCode.BUSY, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("noticewatch:")]
    assert lines[-1] == "noticewatch: every requested source is being crawled by another run; try again later"
    assert "locked by other-host:4242:abcd" in lines[0]
    assert site.hits("/privacy/") == 0
    with Session(engine) as session:
        assert session.exec(select(Fetch)).all() == []


def test_run_skips_only_the_locked_sources_and_says_so(engine, config_path, site):
    assert acquire(engine, lock_name("ismt"), "other-host:4242:abcd", ttl=600)
    result = run_cli(config_path, "run", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sources"] == 4 and summary["fetched"] == 4
    assert summary["skipped"] == {"ismt": "other-host:4242:abcd"}
    assert "skipped 1 source(s) being crawled elsewhere: ismt (locked by other-host:4242:abcd" in result.stderr
    assert site.hits("/privacy/ismt") == 0
    with engine.connect() as conn:  # its own locks are released, the other holder's stays
        assert [row.owner for row in conn.execute(select(CrawlLock.__table__))] == ["other-host:4242:abcd"]


def test_a_killed_runs_locks_expire(engine, site, tmp_path, db_url):
    # a slow crawl (2 s between requests to the one host) with a 2 s lock TTL
    config = site.write_config(tmp_path / "slow.toml", database=db_url, delay=2.0,
                               extra='\n[schedule]\nlock_ttl = "2s"\n')
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while len(holders(engine, [lock_name(s) for s in site.pages])) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(holders(engine, [lock_name(s) for s in site.pages])) == 5
        time.sleep(1.5)  # past one TTL: the heartbeat must have kept the locks alive
        assert run_cli(config, "run").returncode == ExitCode.BUSY
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    locks = holders(engine, [lock_name(s) for s in site.pages])
    assert len(locks) == 5  # a killed process releases nothing ...
    time.sleep(2.5)  # ... but its locks expire after lock_ttl without a heartbeat
    fast = site.write_config(tmp_path / "fast.toml", database=db_url, extra='\n[schedule]\nlock_ttl = "2s"\n')
    result = run_cli(fast, "run", "--source", "cetit", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fetched"] == 1
