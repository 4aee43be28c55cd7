"""`noticewatch status`: per-source health from the real history, exit 4 when a source is stale."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from monitor.config.settings import load_config
from monitor.schedule.daemon import ScheduledJobs
from monitor.schedule.plan import SchedulePlan
from monitor.schedule.status import source_statuses
from monitor.store.db import open_db
from tests.support import run_cli


def status_json(config) -> tuple[int, dict]:
    result = run_cli(config, "status", "--json")
    return result.returncode, json.loads(result.stdout)


def test_status_reports_fetches_failures_changes_and_staleness(site, config_path):
    code, before = status_json(config_path)
    assert code == 4  # nothing fetched yet: every source is stale
    assert all(row["stale"] and row["last_fetch"] is None for row in before["sources"])
    assert {row["next_run_from"] for row in before["sources"]} == {"schedule"}

    assert run_cli(config_path, "run").returncode == 0
    site.pages["ismt"].status = 500
    site.edit("partners4it", "persoonsgegevens", "persoonlijke gegevens")
    assert run_cli(config_path, "run").returncode == 0
    assert run_cli(config_path, "run", "--source", "ismt").returncode == 0

    code, after = status_json(config_path)
    rows = {row["source"]: row for row in after["sources"]}
    assert code == 0  # ismt failed twice, but its last success is recent
    assert rows["ismt"]["consecutive_failures"] == 2 and rows["ismt"]["last_outcome"] == "failed"
    assert rows["ismt"]["last_success"] < rows["ismt"]["last_fetch"]
    assert rows["cetit"]["consecutive_failures"] == 0 and rows["cetit"]["last_success"] == rows["cetit"]["last_fetch"]
    assert rows["partners4it"]["last_change"] is not None and rows["cetit"]["last_change"] is None
    assert not any(row["stale"] for row in rows.values())

    # three days on with no fetch, everything is stale (the planner's clock is a parameter)
    loaded = load_config(config_path)
    engine = open_db(loaded.database_url)
    later = source_statuses(engine, loaded, datetime.now(UTC) + timedelta(days=3))
    assert all(row.stale for row in later)
    engine.dispose()


def test_status_exits_non_zero_once_the_last_success_is_too_old(site, tmp_path, db_url):
    config = site.write_config(tmp_path / "nw.toml", database=db_url, extra='\n[schedule]\nstale_after = "2s"\n')
    assert run_cli(config, "run", "--source", "cetit").returncode == 0
    time.sleep(2.1)
    result = run_cli(config, "status")
    assert result.returncode == 4
    assert "5 stale source(s): ingram-micro, westcon-comstor, partners4it, ismt, cetit" in result.stderr
    table = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:-1]}
    assert table["cetit"][-2:] == ["0", "stale"] and table["ismt"][1] == "-"


def test_status_shows_the_daemons_stored_next_run(site, config_path):
    loaded = load_config(config_path)
    engine = open_db(loaded.database_url)
    jobs = ScheduledJobs(engine, SchedulePlan.from_config(loaded.config), 3600, lambda *_: None)
    jobs.start()
    stored = jobs.next_run_times()
    jobs.shutdown()
    engine.dispose()
    _code, report = status_json(config_path)
    for row in report["sources"]:
        assert row["next_run_from"] == "daemon"
        expected = stored[f"source:{row['source']}"].astimezone(UTC).replace(microsecond=0)
        assert row["next_run"] == expected.isoformat().replace("+00:00", "Z")


def test_status_shows_the_fleet_in_scale_mode(site, tmp_path, db_url):
    import uuid

    prefix = f"nwtest-{uuid.uuid4().hex[:8]}"
    extra = f'\n[frontier]\nredis = "redis://127.0.0.1:6379/0"\nkey_prefix = "{prefix}"\n'
    config = site.write_config(tmp_path / "noticewatch.toml", database=db_url, extra=extra)
    assert run_cli(config, "run", "--source", "ismt").returncode == 0
    result = run_cli(config, "status", "--json")
    fleet = json.loads(result.stdout)["fleet"]
    assert fleet["schema"] == "noticewatch.fleet/1"
    assert fleet["frontier"] == {"waiting": 0, "claimed": 0}
    assert fleet["fetches_per_minute"] > 0 and fleet["workers"] == []
    text = run_cli(config, "status").stdout
    assert "frontier: 0 waiting, 0 claimed by workers" in text and "fetches per minute" in text
    plain = site.write_config(tmp_path / "plain.toml", database=db_url)
    assert json.loads(run_cli(plain, "status", "--json").stdout)["fleet"] is None
