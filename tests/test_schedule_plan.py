"""The schedule plan: cron and interval triggers, spread (jitter) bounds, due sources, config errors.

Every time here is an explicit datetime: the planner takes `now`, so nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.settings import ConfigError, parse_config
from monitor.config.timespec import build_trigger, parse_duration
from monitor.schedule.plan import SchedulePlan, SpreadTrigger, spread_offset

AMS = ZoneInfo("Europe/Amsterdam")


def plan_for(schedule: str = "", sources: str = 'a', per_source: dict[str, str] | None = None) -> SchedulePlan:
    text = f"[schedule]\n{schedule}\n"
    for source_id in sources.split(","):
        text += f'[[source]]\nid = "{source_id}"\nname = "{source_id}"\nurl = "http://127.0.0.1/{source_id}"\n'
        if per_source and source_id in per_source:
            text += f'schedule = "{per_source[source_id]}"\n'
    return SchedulePlan.from_config(parse_config(text, "t.toml"))


def test_cron_schedule_fires_when_due_in_the_configured_time_zone():
    plan = plan_for('default = "0 6 * * *"\njitter = 0')
    assert plan.next_run("source:a", datetime(2026, 3, 2, 4, 0, tzinfo=UTC)) == datetime(2026, 3, 2, 6, 0, tzinfo=AMS)
    # exactly at the fire time it is due now; a second later, tomorrow
    at_six = datetime(2026, 3, 2, 6, 0, tzinfo=AMS)
    assert plan.next_run("source:a", at_six) == at_six
    assert plan.next_run("source:a", at_six + timedelta(seconds=1)) == datetime(2026, 3, 3, 6, 0, tzinfo=AMS)
    # across the spring DST change 06:00 stays 06:00 local (04:00 UTC instead of 05:00)
    assert plan.next_run("source:a", datetime(2026, 3, 29, 0, 0, tzinfo=UTC)).astimezone(UTC) == \
        datetime(2026, 3, 29, 4, 0, tzinfo=UTC)


def test_per_source_schedule_overrides_the_default_and_time_zone_applies():
    plan = plan_for('default = "0 6 * * *"\njitter = 0\ntimezone = "UTC"', "a,b", {"b": "30 */2 * * *"})
    now = datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    assert plan.next_run("source:a", now) == datetime(2026, 5, 2, 6, 0, tzinfo=UTC)
    assert plan.next_run("source:b", now) == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def test_interval_schedule_fires_on_a_fixed_grid_without_drift():
    plan = plan_for('default = "every 6h"\njitter = "10m"')
    job = plan.jobs["source:a"]
    first = plan.next_run("source:a", datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC))
    fires = [first]
    for _ in range(200):
        fires.append(job.trigger.get_next_fire_time(fires[-1], fires[-1]))
    gaps = {b - a for a, b in zip(fires, fires[1:], strict=False)}
    assert gaps == {timedelta(hours=6)}
    # the same grid after a "restart" (no previous fire time): intervals count from a fixed anchor
    later = fires[100] - timedelta(minutes=1)
    assert plan.next_run("source:a", later) == fires[100]


@settings(max_examples=150, deadline=None)
@given(source_id=st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True),
       jitter=st.floats(min_value=0, max_value=7200, allow_nan=False),
       spec=st.sampled_from(["0 6 * * *", "*/15 * * * *", "0 3 * * 1", "every 6h", "every 45m", "every 1d"]),
       now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_spread_stays_within_jitter_bounds(source_id, jitter, spec, now):
    """Each source fires at a base fire time plus an offset in [0, jitter), never before `now`."""
    offset = spread_offset(f"source:{source_id}", jitter)
    assert 0 <= offset < jitter or offset == jitter == 0
    base = build_trigger(spec, AMS)
    fire = SpreadTrigger(base, offset).get_next_fire_time(None, now.astimezone(AMS))
    assert fire >= now
    unshifted = fire.astimezone(UTC) - timedelta(seconds=offset)
    assert base.get_next_fire_time(None, unshifted.astimezone(AMS)) == unshifted  # a real base fire time
    base_next = base.get_next_fire_time(None, now.astimezone(AMS))
    assert fire - base_next < timedelta(seconds=jitter) or fire <= base_next  # never a whole period late


def test_spread_distributes_many_sources_over_the_jitter_window():
    ids = [f"company-{n}" for n in range(300)]
    plan = plan_for('default = "0 6 * * *"\njitter = 300', ",".join(ids))
    now = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    fires = [plan.next_run(f"source:{i}", now) for i in ids]
    seconds = [(f - datetime(2026, 3, 2, 6, 0, tzinfo=AMS)).total_seconds() for f in fires]
    assert all(0 <= s < 300 for s in seconds)
    per_second: dict[int, int] = {}
    for s in seconds:
        per_second[int(s)] = per_second.get(int(s), 0) + 1
    assert max(per_second.values()) <= 6  # 300 sources over 300 s: never a thundering herd
    assert len(per_second) > 150


def test_due_sources_are_those_whose_schedule_fired_since_their_last_fetch():
    plan = plan_for('default = "0 6 * * *"\njitter = 0', "fresh,old,never")
    now = datetime(2026, 3, 3, 6, 30, tzinfo=AMS)
    last = {"fresh": datetime(2026, 3, 3, 5, 1, tzinfo=UTC), "old": datetime(2026, 3, 2, 5, 1, tzinfo=UTC)}
    assert plan.due_sources(last, now) == ["old", "never"]
    # naive times from SQLite are UTC
    assert plan.due_sources({"fresh": datetime(2026, 3, 3, 5, 1), "old": datetime(2026, 3, 3, 5, 2),
                             "never": datetime(2026, 3, 3, 5, 3)}, now) == []


@pytest.mark.parametrize("snippet, key, problem", [
    ('[schedule]\ndefault = "0 6 * *"', "schedule.default", "bad schedule"),
    ('[schedule]\ndefault = "0 25 * * *"', "schedule.default", "higher than the maximum"),
    ('[schedule]\ndefault = "every 0s"', "schedule.default", "at least 1 second"),
    ('[schedule]\ntimezone = "Europe/Amsterdm"', "schedule.timezone", "unknown time zone"),
    ('[schedule]\nmisfire_grace = "3 parsecs"', "schedule.misfire_grace", "not a duration"),
    ('[schedule]\nstale_after = 0', "schedule.stale_after", "greater than 0"),
    ('[schedule]\nwhen = "always"', "schedule.when", "unknown key"),
    ('[[source]]\nid = "a"\nname = "A"\nurl = "http://127.0.0.1/"\nschedule = "daily"', "source[0].schedule",
     "bad schedule"),
])
def test_bad_schedule_settings_are_one_line_config_errors(snippet, key, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(snippet, "nw.toml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"nw.toml: {key}: ") and problem in message


@pytest.mark.parametrize("text, seconds", [(90, 90), ("90s", 90), ("10m", 600), ("1h30m", 5400), ("2d", 172800),
                                           ("1w", 604800), ("0.5h", 1800)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_schedule_defaults():
    sched = parse_config("", "t.toml").schedule
    assert (sched.default, sched.timezone, sched.jitter) == ("0 6 * * *", "Europe/Amsterdam", 300)
    assert sched.misfire_grace == 86400 and sched.stale_after == 172800 and sched.lock_ttl == 600


MAIL = '[mail]\nhost = "127.0.0.1"\nsecurity = "none"\nfrom = "noticewatch <nw@example.org>"\n'
SUBSCRIPTIONS = """
[[subscription]]
name = "daily-team"
to = "privacy@example.org"
frequency = "daily"
hour = 7
timezone = "Europe/Amsterdam"

[[subscription]]
name = "weekly-team"
to = "dpo@example.org"
frequency = "weekly"
day = "monday"
hour = 8

[[subscription]]
name = "now-team"
to = "alerts@example.org"
frequency = "immediate"
"""


def test_digest_subscriptions_get_a_job_at_their_slot():
    text = '[[source]]\nid = "a"\nname = "A"\nurl = "http://127.0.0.1/a"\n' + MAIL + SUBSCRIPTIONS
    plan = SchedulePlan.from_config(parse_config(text, "t.toml"))
    assert sorted(plan.jobs) == ["digest:daily-team", "digest:weekly-team", "source:a"]  # immediate: after cycles
    wednesday_noon = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert plan.next_run("digest:daily-team", wednesday_noon) == datetime(2026, 3, 5, 7, 0, tzinfo=AMS)
    assert plan.next_run("digest:weekly-team", wednesday_noon) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert plan.jobs["digest:daily-team"].kind == "digest" and plan.jobs["digest:daily-team"].target == "daily-team"
    # subscriptions without a [mail] table cannot be sent: no digest jobs
    no_mail = SchedulePlan.from_config(parse_config(text.replace(MAIL, ""), "t.toml"))
    assert sorted(no_mail.jobs) == ["source:a"]
