"""Digest schedules as pure functions of an explicit clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.mail import SubscriptionConfig
from monitor.digest.slots import cron_fields, current_slot, is_due, next_slot, period

AMS = ZoneInfo("Europe/Amsterdam")


def sub(**kw) -> SubscriptionConfig:
    return SubscriptionConfig(name="s", to=["a@example.org"], **kw)


moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 1, 1),
                       timezones=st.just(dt.UTC))


@settings(max_examples=300, deadline=None)
@given(moments, st.sampled_from(["daily", "weekly"]), st.integers(0, 23), st.sampled_from(["monday", "friday"]),
       st.sampled_from(["UTC", "Europe/Amsterdam", "America/New_York"]))
def test_slot_is_the_latest_scheduled_time_before_now(now, frequency, hour, day, zone):
    s = sub(frequency=frequency, hour=hour, day=day if frequency == "weekly" else None, timezone=zone)
    slot = current_slot(s, now)
    assert slot <= now < next_slot(s, now)
    assert now - slot <= period(s) + dt.timedelta(hours=1)  # one hour of slack for DST changes
    local = slot.astimezone(ZoneInfo(zone))
    assert local.minute == 0 and (local.hour == hour or local.hour == (hour + 1) % 24)  # nonexistent DST hour
    if frequency == "weekly":
        assert local.strftime("%A").lower() == day


def test_daily_in_local_time_across_dst():
    s = sub(frequency="daily", hour=7, timezone="Europe/Amsterdam")
    winter = current_slot(s, dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC))
    summer = current_slot(s, dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC))
    assert winter == dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)
    assert summer == dt.datetime(2026, 7, 15, 5, 0, tzinfo=dt.UTC)
    assert current_slot(s, dt.datetime(2026, 1, 15, 5, 59, tzinfo=dt.UTC)) == dt.datetime(2026, 1, 14, 6, 0,
                                                                                         tzinfo=dt.UTC)


def test_due_once_per_slot():
    s = sub(frequency="weekly", day="monday", hour=8)
    monday = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    slot = current_slot(s, monday)
    assert is_due(s, None, monday) and not is_due(s, slot, monday)
    assert not is_due(s, slot, monday + dt.timedelta(days=6))
    assert is_due(s, slot, monday + dt.timedelta(days=7))
    assert is_due(sub(frequency="immediate"), None, monday)


def test_cron_fields_for_the_scheduler():
    assert cron_fields(sub(frequency="weekly", day="friday", hour=16, timezone="Europe/Amsterdam")) == {
        "hour": 16, "minute": 0, "timezone": "Europe/Amsterdam", "day_of_week": "fri"}
    assert cron_fields(sub(frequency="daily")) == {"hour": 7, "minute": 0, "timezone": "UTC"}
    assert cron_fields(sub(frequency="immediate")) is None
