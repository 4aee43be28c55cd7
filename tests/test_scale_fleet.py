"""Scale mode end to end: three worker processes, PostgreSQL, Redis, notices on four local hosts.

NOTICEWATCH_SCALE_TEST_NOTICES sets the number of notices (default 2,000; the file runs in about two
minutes on two cores; bench/scale.py runs 10,000). Each source must be recorded exactly once
per cycle, also when a worker is SIGKILLed mid-cycle and Redis loses every key of the frontier.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.devtools.fleet_site import FleetSites
from monitor.fleet.frontier import Frontier
from monitor.store.db import open_db
from monitor.store.fleet_tables import CycleItem
from monitor.store.models import Fetch, Version
from tests.support import REDIS_URL, fresh_postgres, redis_prefix, run_cli, wait_for
from tests.support.scale import start_worker

NOTICES = int(os.environ.get("NOTICEWATCH_SCALE_TEST_NOTICES", "2000"))


@pytest.fixture
def pg_url():
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def prefix():
    with redis_prefix() as value:
        yield value


def _done(engine, cycle_id: str) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(CycleItem)
                            .where(CycleItem.cycle_id == cycle_id, CycleItem.done_at.is_not(None))).one()


def _cycle_of(output: str) -> str:
    return output.split("cycle ", 1)[1].split(":", 1)[0]


def _stop(workers) -> None:
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        proc.wait(timeout=60)


def test_fleet_records_every_source_exactly_once_despite_kill_and_redis_loss(tmp_path, pg_url, prefix):
    with FleetSites(NOTICES, hosts=4) as sites:
        config = sites.write_config(tmp_path / "noticewatch.toml", database=pg_url, redis=REDIS_URL,
                                    key_prefix=prefix, visibility_timeout=3, timeout=3, concurrency=8)
        engine = open_db(load_config(config).database_url)
        frontier = Frontier.from_config(load_config(config).config.frontier)

        first = run_cli(config, "enqueue")
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("enqueued new cycle"), first.stdout
        cycle1 = _cycle_of(first.stdout)
        workers = [start_worker(config, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            wait_for(lambda: _done(engine, cycle1) >= NOTICES // 3, 120, "a third of cycle 1")
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            wait_for(lambda: _done(engine, cycle1) >= 2 * NOTICES // 3, 120, "two thirds of cycle 1")
            assert frontier.delete_all() > 0  # Redis restarted empty: frontier, claims, slots gone
            repair = run_cli(config, "enqueue")
            assert repair.returncode == 0, repair.stderr
            assert repair.stdout.startswith(f"repaired open cycle {cycle1}"), repair.stdout
            wait_for(lambda: _done(engine, cycle1) == NOTICES, 180, "all of cycle 1")

            with Session(engine) as session:
                fetches = session.exec(select(Fetch).where(Fetch.cycle_id == cycle1)).all()
                versions = session.exec(select(Version.source_id, Version.number)).all()
            per_source = Counter(f.source_id for f in fetches)
            assert set(per_source) == set(sites.page_ids)
            assert set(per_source.values()) == {1}, "a source recorded twice in one cycle"
            assert {f.outcome for f in fetches} == {"first"}
            assert sorted(versions) == sorted((sid, 1) for sid in sites.page_ids)
            assert min(sites.hits().values()) >= 1

            # Cycle 2 on the two survivors: a clean run fetches every unchanged page exactly once over HTTP,
            # and an edited one twice (its new text is confirmed by a second fetch before it is recorded).
            edited = sites.page_ids[::37]
            for page_id in edited:
                sites.edit(page_id)
            hits_before = sites.hits()
            second = run_cli(config, "enqueue")
            assert second.stdout.startswith("enqueued new cycle"), second.stdout
            cycle2 = _cycle_of(second.stdout)
            wait_for(lambda: _done(engine, cycle2) == NOTICES, 180, "all of cycle 2")
            hits_after = sites.hits()
            hits = {p: hits_after[p] - hits_before[p] for p in sites.page_ids}
            assert {p for p, n in hits.items() if n == 2} == set(edited)
            assert {n for p, n in hits.items() if p not in edited} == {1}
            with Session(engine) as session:
                outcomes = dict(session.exec(select(Fetch.source_id, Fetch.outcome)
                                             .where(Fetch.cycle_id == cycle2)).all())
                latest = dict(session.exec(select(Version.source_id, func.max(Version.number))
                                           .group_by(Version.source_id)).all())
            assert {p for p, o in outcomes.items() if o == "changed"} == set(edited)
            assert {o for p, o in outcomes.items() if p not in edited} == {"not_modified"}
            assert {p for p, n in latest.items() if n == 2} == set(edited)

            status = run_cli(config, "fleet", "--json")
            assert status.returncode == 0, status.stderr
            assert '"open_cycles": []' in status.stdout
        finally:
            _stop(workers)
        assert [w.returncode for w in workers[1:]] == [0, 0]
        assert frontier.waiting() == 0 and frontier.claimed() == 0
        engine.dispose()


def test_politeness_delay_holds_across_all_workers(tmp_path, pg_url, prefix):
    """Three workers, two hosts, delay 0.4 s: no two requests to one host less than 0.4 s apart."""
    with FleetSites(16, hosts=2) as sites:
        config = sites.write_config(tmp_path / "noticewatch.toml", database=pg_url, redis=REDIS_URL,
                                    key_prefix=prefix, delay=0.4, timeout=5)
        assert run_cli(config, "enqueue").returncode == 0
        workers = [start_worker(config, tmp_path / f"worker{i}.log", "--exit-when-idle", "1") for i in range(3)]
        for proc in workers:
            assert proc.wait(timeout=120) == 0
        for site in sites.sites:
            times = sorted(site.request_times)
            assert len(times) >= 8
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps) >= 0.4, f"{site.base_url}: requests {min(gaps):.3f} s apart"
        assert set(sites.hits().values()) == {1}
