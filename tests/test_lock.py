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


def test_a_claim_takes_free_expired_and_dead_holders_locks_in_bulk_and_leaves_live_ones(engine):
    # acquire_many takes hundreds of locks in one transaction; what it cannot take goes the one-by-one way.
    import socket

    host = socket.gethostname()
    past = datetime.now(UTC) - timedelta(minutes=5)
    assert acquire(engine, lock_name("expired"), "elsewhere:1:a", ttl=1, now=past)
    assert acquire(engine, lock_name("dead"), f"{host}:{_dead_pid()}:b", ttl=600)
    assert acquire(engine, lock_name("live"), "elsewhere:2:c", ttl=600)
    ids = [f"s{n:03d}" for n in range(300)] + ["expired", "dead", "live"]
    with claim_sources(engine, ids, ttl=600) as claim:
        assert claim.held == [s for s in ids if s != "live"] and list(claim.skipped) == ["live"]
        rows = holders(engine, [lock_name(s) for s in ids])
        assert {row.owner for name, row in rows.items() if name != lock_name("live")} == {claim.owner}
        with claim_sources(engine, ["s000", "other"], ttl=600) as second:  # a second run meanwhile
            assert second.held == ["other"] and list(second.skipped) == ["s000"]
    assert set(holders(engine, [lock_name(s) for s in ids])) == {lock_name("live")}


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


@pytest.mark.slow
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


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(engine):
    import socket

    from monitor.store.lock import force_release, owner_is_dead

    host = socket.gethostname()
    dead, alive, elsewhere = f"{host}:{_dead_pid()}:aaaa", f"{host}:{os.getppid()}:bbbb", "other-host:1:cccc"
    assert owner_is_dead(dead) and not owner_is_dead(alive) and not owner_is_dead(elsewhere)
    for name, owner in (("source:a", dead), ("source:b", alive), ("source:c", elsewhere)):
        assert acquire(engine, name, owner, ttl=600)
    assert acquire(engine, "source:a", "me", ttl=600)  # the dead holder's lock, long before its TTL
    assert not acquire(engine, "source:b", "me", ttl=600)  # a live process keeps its lock
    assert not acquire(engine, "source:c", "me", ttl=600)  # another host: the TTL rule stays
    dropped = force_release(engine, ["source:c", "source:nosuch"])
    assert [d.owner for d in dropped] == [elsewhere] and acquire(engine, "source:c", "me", ttl=600)
    assert sorted(lock.name for lock in force_release(engine)) == ["source:a", "source:b", "source:c"]
    assert holders(engine, ["source:a", "source:b", "source:c"]) == {}


def test_unlock_releases_named_or_all_source_locks_and_refuses_unknown_ids(engine, tmp_path, db_url):
    from tests.test_sources_edit import HAND_WRITTEN

    config = tmp_path / "noticewatch.toml"
    config.write_text(HAND_WRITTEN.replace('database = "sqlite:///nw.db"', f'database = "{db_url}"'))
    assert acquire(engine, lock_name("acme"), "far-host:12:abcd", ttl=600)
    assert acquire(engine, lock_name("beta"), "far-host:12:abcd", ttl=600)
    unknown = run_cli(config, "unlock", "nosuch", timeout=60)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "nosuch" in unknown.stderr
    one = run_cli(config, "unlock", "acme", timeout=60)
    assert one.returncode == 0 and one.stdout.startswith("acme: released the lock held by far-host:12:abcd since ")
    rest = run_cli(config, "unlock", timeout=60)
    assert rest.returncode == 0 and rest.stdout.startswith("beta: released") and rest.stdout.count("\n") == 1
    assert run_cli(config, "unlock", timeout=60).stdout == "no source is locked\n"
    assert holders(engine, [lock_name("acme"), lock_name("beta")]) == {}
