"""The small languages of the [schedule] table: durations ("10m", "1h30m", 90) and schedules.

A schedule is a five-field cron expression ("0 6 * * *", read by APScheduler's CronTrigger), a cron
nickname (@hourly, @daily, @weekly, @monthly) or an interval ("every 6h"). Both the configuration
loader (to reject a bad value with one line) and the planner (to build triggers) read them here.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_NICKNAMES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
              "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *"}
SCHEDULE_HELP = 'use a cron expression like "0 6 * * *" or an interval like "every 6h"'

# Intervals count from a fixed instant, so "every 6h" fires at the same times after every restart
# and `status` can say when the next run is without asking the daemon.
INTERVAL_ANCHOR = datetime(2000, 1, 1)


def parse_duration(value: str | int | float) -> float:
    """Seconds from 90, "90s", "10m", "6h", "2d", "1w" or combinations like "1h30m"."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"negative duration: {value!r}")
        return float(value)
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"not a duration: {value!r} (use e.g. 90, \"90s\", \"10m\", \"6h\", \"1d\")")
    return total


def parse_timezone(name: str) -> tzinfo:
    """A IANA time zone by name (Europe/Amsterdam, UTC, ...)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like \"Europe/Amsterdam\")") from None


def build_trigger(spec: str, tz: tzinfo) -> BaseTrigger:
    """The APScheduler trigger of a schedule spec, without jitter; ValueError with a one-line reason."""
    text = " ".join(spec.split())
    lowered = text.lower()
    if lowered.startswith("every "):
        try:
            seconds = parse_duration(lowered.removeprefix("every "))
        except ValueError as exc:
            raise ValueError(f"bad schedule {spec!r}: {exc}") from None
        if seconds < 1:
            raise ValueError(f"bad schedule {spec!r}: an interval must be at least 1 second")
        return IntervalTrigger(seconds=seconds, start_date=INTERVAL_ANCHOR, timezone=tz)
    text = _NICKNAMES.get(lowered, text)
    if len(text.split()) != 5:
        raise ValueError(f"bad schedule {spec!r}: {SCHEDULE_HELP}")
    try:
        return CronTrigger.from_crontab(text, timezone=tz)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad schedule {spec!r}: {exc} ({SCHEDULE_HELP})") from None


def check_schedule(spec: str) -> str:
    """Validate a schedule's syntax (time zone aside) and return it unchanged."""
    build_trigger(spec, ZoneInfo("UTC"))
    return spec
