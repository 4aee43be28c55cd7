"""Shared fixtures: the local notice site, a fresh database per test (SQLite and PostgreSQL), CLI runner.

Helpers live in tests/support (one copy each); see tests/support/__init__.py. Speed tiers: tests
marked `slow` (real daemons, fleets, browsers, every integration test on a database) are left
out by `pytest -m "not slow"`; the README's test command runs everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.devtools import NoticeSite
from tests.support import BACKENDS, fresh_postgres


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'noticewatch.db'}"
        return
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def site():
    """The five seed notices served on 127.0.0.1 with page chrome."""
    with NoticeSite() as running:
        yield running


@pytest.fixture
def config_path(site, tmp_path, db_url) -> Path:
    """A noticewatch.toml watching every page of `site`, on the test's database."""
    return site.write_config(tmp_path / "noticewatch.toml", database=db_url)


# Whole modules in the slow tier: real daemons, fleets of workers, browsers, wheel builds.
SLOW_MODULES = {"test_daemon", "test_scale_fleet", "test_web_browser", "test_browser", "test_migrate_storage",
                "test_wheel", "test_web_schema", "test_schedule_examples", "test_digest_crash"}


def pytest_collection_modifyitems(config, items) -> None:
    """Put the slow tier's tests under the `slow` marker: whole slow modules, and every integration test
    on a database (each runs real cycles on SQLite and on PostgreSQL); the quick tier keeps the unit and
    property tests of every step and the surfaces' tests that need no database fixture."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        on_a_database = "db_url" in getattr(item, "fixturenames", ())
        if module in SLOW_MODULES or on_a_database:
            item.add_marker(pytest.mark.slow)
