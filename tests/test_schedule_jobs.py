"""The daemon's APScheduler with its job store in the real database, driven by a controllable clock.

time-machine freezes `datetime.now` for APScheduler (the scheduler and the misfire check); moving the
clock and calling `wakeup()` makes the scheduler look for due jobs at the new time. Nothing waits for
real minutes. Runs on SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text

from monitor.config.settings import parse_config
from monitor.schedule.daemon import ScheduledJobs, stored_next_runs
from monitor.schedule.plan import SchedulePlan
from monitor.store.db import open_db

AMS = ZoneInfo("Europe/Amsterdam")


def make_plan(sources: dict[str, str | None], default: str = "0 6 * * *", jitter: int = 0) -> SchedulePlan:
    text_ = f'[schedule]\ndefault = "{default}"\njitter = {jitter}\n'
    for source_id, spec in sources.items():
        text_ += f'[[source]]\nid = "{source_id}"\nname = "{source_id}"\nurl = "http://127.0.0.1/{source_id}"\n'
        if spec:
            text_ += f'schedule = "{spec}"\n'
    return SchedulePlan.from_config(parse_config(text_, "t.toml"))


class Fired:
    """Collects due jobs as the daemon's main loop would receive them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def __call__(self, kind: str, target: str) -> None:
        with self.changed:
            self.items.append((kind, target))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.items) < count and time.monotonic() < deadline:
                self.changed.wait(0.05)
        return list(self.items)


def settle(jobs: ScheduledJobs, fired: Fired, expected: int) -> list[tuple[str, str]]:
    """Let the scheduler process the current (frozen) time, then make sure nothing more fires."""
    jobs.wakeup()
    fired.wait_for(expected)
    time.sleep(0.3)
    jobs.wakeup()
    time.sleep(0.3)
    return list(fired.items)


@pytest.fixture
def engine(db_url):
    engine = open_db(db_url)
    yield engine
    engine.dispose()


def test_cron_and_interval_jobs_fire_when_due(engine):
    plan = make_plan({"daily": None, "often": "every 15m"})
    fired = Fired()
    with time_machine.travel(datetime(2026, 3, 2, 5, 50, tzinfo=AMS), tick=False) as clock:
        jobs = ScheduledJobs(engine, plan, misfire_grace=3600, on_due=fired)
        jobs.start()
        try:
            assert settle(jobs, fired, 0) == []
            clock.move_to(datetime(2026, 3, 2, 6, 0, tzinfo=AMS))
            got = settle(jobs, fired, 2)
            assert sorted(got) == [("source", "daily"), ("source", "often")]
            clock.move_to(datetime(2026, 3, 2, 6, 15, tzinfo=AMS))
            assert settle(jobs, fired, 3)[2:] == [("source", "often")]
            runs = jobs.next_run_times()
            assert runs["source:daily"] == datetime(2026, 3, 3, 6, 0, tzinfo=AMS)
            assert runs["source:often"] == datetime(2026, 3, 2, 6, 30, tzinfo=AMS)
        finally:
            jobs.shutdown()


def test_restart_keeps_the_job_store_without_duplicates(engine):
    plan = make_plan({"a": None, "b": "every 6h", "c": None}, jitter=600)
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=AMS), tick=False):
        first = ScheduledJobs(engine, plan, 3600, Fired())
        report = first.start()
        before = first.next_run_times()
        first.shutdown()
        assert sorted(report.added) == ["source:a", "source:b", "source:c"]

        again = ScheduledJobs(engine, plan, 3600, Fired())
        report = again.start()
        try:
            assert sorted(report.kept) == ["source:a", "source:b", "source:c"] and not report.added
            assert again.next_run_times() == before
        finally:
            again.shutdown()

        # configuration changed between restarts: new schedule replaced, removed source dropped, new one added
        changed = make_plan({"a": "0 7 * * *", "b": "every 6h", "d": None}, jitter=600)
        third = ScheduledJobs(engine, changed, 3600, Fired())
        report = third.start()
        try:
            assert (report.kept, report.changed, report.added, report.removed) == (
                ["source:b"], ["source:a"], ["source:d"], ["source:c"])
            assert third.next_run_times()["source:a"].astimezone(AMS).hour == 7
        finally:
            third.shutdown()
    with engine.connect() as conn:
        ids = sorted(row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs")))
    assert ids == ["source:a", "source:b", "source:d"]
    assert set(stored_next_runs(engine)) == set(ids)


def test_misfires_after_downtime_coalesce_into_one_catch_up_run(engine):
    plan = make_plan({"a": None, "b": "every 1h"})
    with time_machine.travel(datetime(2026, 3, 2, 5, 0, tzinfo=AMS), tick=False) as clock:
        jobs = ScheduledJobs(engine, plan, misfire_grace=4 * 3600, on_due=Fired())
        jobs.start()
        jobs.shutdown()
        # down for three days and a bit: three daily runs and ~75 hourly runs were missed
        clock.move_to(datetime(2026, 3, 5, 8, 30, tzinfo=AMS))
        fired = Fired()
        jobs = ScheduledJobs(engine, plan, misfire_grace=4 * 3600, on_due=fired)
        jobs.start()
        try:
            got = settle(jobs, fired, 2)
            assert sorted(got) == [("source", "a"), ("source", "b")]  # one catch-up each, not 3 or 75
            runs = jobs.next_run_times()
            assert runs["source:a"] == datetime(2026, 3, 6, 6, 0, tzinfo=AMS)
            assert runs["source:b"] == datetime(2026, 3, 5, 9, 0, tzinfo=AMS)
        finally:
            jobs.shutdown()


def test_a_run_missed_by_more_than_the_grace_time_is_skipped(engine, caplog):
    plan = make_plan({"a": None})
    with time_machine.travel(datetime(2026, 3, 2, 5, 0, tzinfo=AMS), tick=False) as clock:
        jobs = ScheduledJobs(engine, plan, misfire_grace=3600, on_due=Fired())
        jobs.start()
        jobs.shutdown()
        clock.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=AMS))  # 3 h late, grace 1 h
        fired = Fired()
        jobs = ScheduledJobs(engine, plan, misfire_grace=3600, on_due=fired)
        with caplog.at_level("WARNING", logger="noticewatch.daemon"):
            jobs.start()
            try:
                assert settle(jobs, fired, 0) == []
                assert jobs.next_run_times()["source:a"] == datetime(2026, 3, 3, 6, 0, tzinfo=AMS)
            finally:
                jobs.shutdown()
    missed = [r for r in caplog.records if r.getMessage() == "job_missed"]
    assert len(missed) == 1 and missed[0].fields["job"] == "source:a"


def test_stored_next_runs_is_empty_without_a_daemon(engine):
    assert stored_next_runs(engine) == {}


def test_spread_jobs_fire_inside_their_window(engine):
    ids = [f"s{n}" for n in range(20)]
    plan = make_plan(dict.fromkeys(ids), jitter=120)
    fired = Fired()
    with time_machine.travel(datetime(2026, 3, 2, 5, 59, tzinfo=AMS), tick=False) as clock:
        jobs = ScheduledJobs(engine, plan, 3600, fired)
        jobs.start()
        try:
            runs = jobs.next_run_times()
            window = [(runs[f"source:{i}"] - datetime(2026, 3, 2, 6, 0, tzinfo=AMS)).total_seconds() for i in ids]
            assert all(0 <= s < 120 for s in window) and len(set(window)) > 10
            clock.move_to(datetime(2026, 3, 2, 6, 1, tzinfo=AMS))
            early = {target for _k, target in settle(jobs, fired, sum(s <= 60 for s in window))}
            assert early == {i for i, s in zip(ids, window, strict=True) if s <= 60}
        finally:
            jobs.shutdown()


def test_a_digest_job_fires_at_its_subscriptions_slot(engine):
    config = parse_config('[mail]\nhost = "127.0.0.1"\nsecurity = "none"\nfrom = "nw <nw@example.org>"\n'
                          '[[subscription]]\nname = "team"\nto = "p@example.org"\nfrequency = "weekly"\n'
                          'day = "tuesday"\nhour = 9\ntimezone = "Europe/Amsterdam"\n', "t.toml")
    fired = Fired()
    with time_machine.travel(datetime(2026, 3, 3, 8, 59, tzinfo=AMS), tick=False) as clock:
        jobs = ScheduledJobs(engine, SchedulePlan.from_config(config), 3600, fired)
        jobs.start()
        try:
            assert settle(jobs, fired, 0) == []
            clock.move_to(datetime(2026, 3, 3, 9, 0, tzinfo=AMS))
            assert settle(jobs, fired, 1) == [("digest", "team")]
            assert jobs.next_run_times()["digest:team"] == datetime(2026, 3, 10, 9, 0, tzinfo=AMS)
        finally:
            jobs.shutdown()
