"""`--at` / `--since` dates as people mean them, in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import local_iso, parse_moment

AMS = ZoneInfo("Europe/Amsterdam")


def test_a_date_is_the_end_of_that_day_for_at_and_its_start_for_since():
    assert parse_moment("2026-12-01", AMS, end_of_day=True) == datetime(2026, 12, 1, 22, 59, 59, 999999, UTC)
    assert parse_moment("2026-12-01", AMS, end_of_day=False) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert parse_moment("2026-07-01", AMS, end_of_day=False) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # summer
    assert parse_moment("2026-12-01T06:00", AMS, end_of_day=True) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert parse_moment("2026-12-01T06:00Z", AMS, end_of_day=True) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_moment("yesterday", AMS, end_of_day=True)


@given(st.dates(min_value=datetime(1971, 1, 1).date(), max_value=datetime(2099, 12, 30).date()),
       st.sampled_from(["UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]))
def test_the_day_is_covered_exactly_once(day, name):
    zone = ZoneInfo(name)
    start = parse_moment(day.isoformat(), zone, end_of_day=False)
    end = parse_moment(day.isoformat(), zone, end_of_day=True)
    assert start.astimezone(zone).date() == day == end.astimezone(zone).date()
    nxt = parse_moment((day + timedelta(days=1)).isoformat(), zone, end_of_day=False)
    assert nxt - end == timedelta(microseconds=1)


def test_local_iso_shows_the_offset():
    assert local_iso(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), AMS) == "2026-12-01T07:00:00+01:00"
    assert local_iso(None, AMS) is None
