"""One daemon runs a fleet: with [frontier] it takes the leader lock and enqueues due cycles itself; a second
daemon stands by and leads within lock_ttl once the first one dies (real PostgreSQL and Redis)."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, func, select

from monitor.store import CrawlCycle, open_db
from tests.support import REDIS_URL, fresh_postgres, redis_prefix
from tests.test_daemon import DaemonProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def fleet_config(site, tmp_path):
    with fresh_postgres() as pg_url, redis_prefix() as prefix:
        extra = (f'\n[frontier]\nredis = "{REDIS_URL}"\nkey_prefix = "{prefix}"\n'
                 '\n[schedule]\ndefault = "every 3s"\njitter = 0\nlock_ttl = "15s"\n')
        yield site.write_config(tmp_path / "noticewatch.toml", database=pg_url, extra=extra), pg_url


def _cycles(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(CrawlCycle)).one()


def test_the_leader_enqueues_cycles_and_a_stand_by_takes_over_when_it_dies(fleet_config):
    config, pg_url = fleet_config
    engine = open_db(pg_url)
    first = DaemonProcess(config)
    second = None
    try:
        first.wait_for("leader_elected", timeout=60)
        first.wait_for("cycle_enqueued", timeout=60)
        assert _cycles(engine) >= 1  # no cron line: the daemon put the cycle on the frontier itself
        second = DaemonProcess(config)
        second.wait_for("standby", timeout=60)
        assert not second.events("leader_elected")
        first.kill()
        killed_at = time.monotonic()
        second.wait_for("leader_elected", timeout=15)
        assert time.monotonic() - killed_at < 15  # within lock_ttl
        second.wait_for("cycle_enqueued", timeout=60)
        assert second.stop() == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()
        engine.dispose()
