"""The plan of scheduled work: one job per source (and per digest frequency) with its trigger.

Digest subscriptions (monitor/digest_schedule.py) bring their own slots: a daily or weekly one gets a
job at its slot. Both the daemon (which hands the triggers to APScheduler) and `status` / `run --due` (which ask
"when is the next run?" and "is this source due?") read the plan from here, so they agree.

Spread instead of random jitter: many sources share one schedule ("0 6 * * *"), and firing them in the
same second would hammer the machine. Each source is shifted by a fixed offset in [0, jitter) derived
from its id. Unlike APScheduler's own random jitter this does not drift on interval schedules, spreads
sources evenly, and keeps the next run predictable for `status`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from monitor.config import build_trigger, parse_timezone
from monitor.core import as_utc
from monitor.digest import cron_fields

if TYPE_CHECKING:
    from monitor.config import Config

SOURCE_JOB_PREFIX = "source:"
DIGEST_JOB_PREFIX = "digest:"


def spread_offset(key: str, jitter: float) -> float:
    """A stable offset in [0, jitter) seconds for `key`, evenly distributed over keys."""
    if jitter <= 0:
        return 0.0
    fraction = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    return round(fraction * jitter, 3) % jitter


class SpreadTrigger(BaseTrigger):
    """Fires `offset` seconds after every fire time of `base` (pickled into the daemon's job store)."""

    def __init__(self, base: BaseTrigger, offset: float) -> None:
        self.base = base
        self.offset = offset

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        shift = timedelta(seconds=self.offset)
        # Shift in UTC: wall-clock arithmetic on an aware local time is wrong across DST changes.
        base_previous = None if previous_fire_time is None else _in(previous_fire_time.astimezone(UTC) - shift,
                                                                    previous_fire_time.tzinfo)
        base_next = self.base.get_next_fire_time(base_previous, _in(now.astimezone(UTC) - shift, now.tzinfo))
        if base_next is None:
            return None
        return _in(base_next.astimezone(UTC) + shift, base_next.tzinfo)

    def __str__(self) -> str:
        return f"{self.base} +{self.offset:g}s"

    def __repr__(self) -> str:
        return f"<SpreadTrigger {self.base!r} offset={self.offset:g}s>"


def _in(value: datetime, tz: tzinfo | None) -> datetime:
    return value.astimezone(tz) if tz is not None else value


@dataclass(frozen=True)
class PlannedJob:
    """One scheduled job: what it does (kind, target), when (trigger), described for humans and for
    noticing that the configuration changed since the job was stored."""

    job_id: str
    kind: str  # "source" | "digest"
    target: str  # source id or digest subscription name
    spec: str
    offset: float
    trigger: BaseTrigger
    description: str


class SchedulePlan:
    """Every job the configuration asks for, keyed by job id."""

    def __init__(self, jobs: Iterable[PlannedJob], tz: tzinfo) -> None:
        self.jobs = {job.job_id: job for job in jobs}
        self.timezone = tz

    @classmethod
    def from_config(cls, config: Config) -> SchedulePlan:
        """Jobs for every source (its own schedule or the default) and, when mail is configured, for the
        slot of every daily or weekly digest subscription (immediate ones go out after each cycle)."""
        sched = config.schedule
        tz = parse_timezone(sched.timezone)
        jobs = [_planned("source", src.id, src.schedule or sched.default, sched.jitter, tz) for src in config.source]
        if config.mail is not None:
            jobs += [_digest_job(sub.name, sub.frequency, fields) for sub in config.subscription
                     if (fields := cron_fields(sub)) is not None]
        return cls(jobs, tz)

    def source_job(self, source_id: str) -> PlannedJob | None:
        return self.jobs.get(SOURCE_JOB_PREFIX + source_id)

    def next_run(self, job_id: str, now: datetime) -> datetime | None:
        """The first fire time at or after `now`."""
        job = self.jobs.get(job_id)
        return None if job is None else job.trigger.get_next_fire_time(None, now.astimezone(self.timezone))

    def is_due(self, job_id: str, last_run: datetime | None, now: datetime) -> bool:
        """Whether the job fired since `last_run` (never run: due)."""
        job = self.jobs.get(job_id)
        if job is None:
            return False
        if last_run is None:
            return True
        after = (as_utc(last_run) + timedelta(microseconds=1)).astimezone(self.timezone)
        fire = job.trigger.get_next_fire_time(None, after)
        return fire is not None and fire <= now

    def due_sources(self, last_attempts: dict[str, datetime | None], now: datetime) -> list[str]:
        """Source ids (in plan order) whose schedule fired since their last fetch attempt."""
        return [job.target for job in self.jobs.values()
                if job.kind == "source" and self.is_due(job.job_id, last_attempts.get(job.target), now)]




def _digest_job(name: str, frequency: str, fields: dict) -> PlannedJob:
    trigger = SpreadTrigger(CronTrigger(**fields), 0.0)
    when = " ".join(f"{key}={value}" for key, value in sorted(fields.items()) if key != "timezone")
    description = f"digest {name}: {frequency} {when} ({fields['timezone']})"
    return PlannedJob(DIGEST_JOB_PREFIX + name, "digest", name, f"{frequency} {when}", 0.0, trigger, description)


def _planned(kind: str, target: str, spec: str, jitter: float, tz: tzinfo) -> PlannedJob:
    offset = spread_offset(f"{kind}:{target}", jitter)
    trigger = SpreadTrigger(build_trigger(spec, tz), offset)
    description = f"{kind} {target}: {spec} ({tz}, +{offset:g}s)"
    return PlannedJob(SOURCE_JOB_PREFIX + target, kind, target, spec, offset, trigger, description)
