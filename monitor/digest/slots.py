"""When a subscription's digest is due, as pure functions of an explicit `now` (a controllable clock).

A daily or weekly subscription has *slots*: the times it is meant to go out (07:00 every day, or
Monday 07:00, in the subscription's time zone). A subscription is due when the latest slot at or
before `now` has not been handled yet; an immediate subscription is due on every run. The
scheduler (daemon) can use `cron_fields` to fire at the slots and `next_slot` to show what is next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import WEEKDAYS, SubscriptionConfig

IMMEDIATE_LOOKBACK = timedelta(days=1)


def period(sub: SubscriptionConfig) -> timedelta:
    """How much history one digest covers: a day, a week (immediate: the first run's look-back)."""
    return {"daily": timedelta(days=1), "weekly": timedelta(days=7)}.get(sub.frequency, IMMEDIATE_LOOKBACK)


def current_slot(sub: SubscriptionConfig, now: datetime) -> datetime | None:
    """The latest slot at or before `now` (UTC), or None for an immediate subscription."""
    if sub.frequency == "immediate":
        return None
    local = now.astimezone(ZoneInfo(sub.timezone))
    slot = local.replace(hour=sub.send_hour, minute=0, second=0, microsecond=0)
    if sub.frequency == "weekly":
        slot -= timedelta(days=(local.weekday() - sub.weekday) % 7)
    if slot > local:
        slot -= period(sub)
    return slot.astimezone(UTC)


def next_slot(sub: SubscriptionConfig, after: datetime) -> datetime | None:
    """The first slot strictly after `after` (UTC), or None for an immediate subscription."""
    slot = current_slot(sub, after)
    if slot is None:
        return None
    local = slot.astimezone(ZoneInfo(sub.timezone)) + period(sub)
    return local.replace(hour=sub.send_hour).astimezone(UTC)


def is_due(sub: SubscriptionConfig, last_slot: datetime | None, now: datetime) -> bool:
    """Immediate: always. Scheduled: when the current slot is later than the last one handled."""
    slot = current_slot(sub, now)
    return slot is None or last_slot is None or slot > last_slot


def first_since(sub: SubscriptionConfig, now: datetime) -> datetime:
    """Where a new subscription's history starts: one period before its current slot (or now)."""
    return (current_slot(sub, now) or now) - period(sub)


def cron_fields(sub: SubscriptionConfig) -> dict | None:
    """APScheduler CronTrigger keyword arguments firing at the slots; None: after every cycle."""
    if sub.frequency == "immediate":
        return None
    fields = {"hour": sub.send_hour, "minute": 0, "timezone": sub.timezone}
    if sub.frequency == "weekly":
        fields["day_of_week"] = WEEKDAYS[sub.weekday][:3]
    return fields
