"""Typos are errors: unknown source ids, bad languages, empty configs, a damaged database, versions that
do not exist; and dates mean what people mean in the configured time zone. Real child processes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from monitor.config import load_config
from monitor.store import open_db
from tests.support import run_cli
from tests.support.digest import seed_history
from tests.support.smtp import write_config

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def history(tmp_path):
    path = write_config(tmp_path / "noticewatch.toml", f"sqlite:///{tmp_path / 'nw.db'}", None, subscriptions="")
    # 00:30 Amsterdam time: still "yesterday" in UTC, the case where midnight-UTC dates went wrong
    first = dt.datetime.now(AMS).replace(hour=0, minute=30, second=0, microsecond=0).astimezone(dt.UTC)
    engine = open_db(load_config(path).database_url)
    seed_history(engine, first)
    engine.dispose()
    return path, first


@pytest.mark.parametrize("args", [("changes", "--source", "nosuch"), ("history", "nosuch"), ("show", "nosuch"),
                                  ("diff", "nosuch"), ("reextract", "--source", "nosuch"), ("unlock", "nosuch"),
                                  ("run", "--source", "nosuch")])
def test_an_unknown_source_id_is_one_line_and_exit_2_in_every_command(history, args):
    path, _first = history
    result = run_cli(path, *args, timeout=60)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "nosuch" in result.stderr and "unknown source id" in result.stderr


def test_show_names_the_versions_that_exist_and_at_means_the_end_of_that_local_day(history):
    path, first = history
    zero = run_cli(path, "show", "ismt", "--version", "0", timeout=60)
    assert zero.returncode == 1
    assert zero.stderr.startswith("noticewatch: ismt: no version 0 (versions 1–2, the first recorded ")
    day = first.astimezone(AMS).date().isoformat()
    shown = run_cli(path, "show", "ismt", "--at", day, timeout=60)  # the day of the first crawl
    assert shown.returncode == 0, shown.stderr
    assert "maximaal zeven jaar" in shown.stdout  # the version standing at the end of that day
    since = run_cli(path, "changes", "--since", day, "--json", timeout=60)
    assert since.returncode == 0 and '"source": "ismt"' in since.stdout
    before = (first.astimezone(AMS).date() - dt.timedelta(days=1)).isoformat()
    assert run_cli(path, "show", "ismt", "--at", before, timeout=60).returncode == 1


def test_a_config_without_sources_is_an_error_for_run(tmp_path):
    path = tmp_path / "noticewatch.toml"
    path.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "nw.db"}"\n')
    result = run_cli(path, "run", timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"noticewatch: {path}: source: no [[source]] table: nothing to watch "
                             "(add one with `noticewatch add URL`)\n")


def test_a_damaged_database_is_one_line_and_exit_3(history):
    path, _first = history
    db = path.parent / "nw.db"
    data = bytearray(db.read_bytes())
    data[4096:4096 * 3] = b"\xde\xad\xbe\xef" * 2048  # garbage over pages past the header
    db.write_bytes(bytes(data))
    for args in (("changes",), ("history", "ismt"), ("show", "ismt")):
        result = run_cli(path, *args, timeout=60)
        assert result.returncode == 3, (args, result.stderr[-500:])
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("noticewatch: "), result.stderr
