"""Shared fixtures: the local notice site, a fresh database per test (SQLite and PostgreSQL), CLI runner.

Integration tests take `db_url`, which runs them once on SQLite and once on the real PostgreSQL at
NOTICEWATCH_TEST_POSTGRES (default postgresql+psycopg://postgres@127.0.0.1:5432/test); each test
gets its own fresh database there. Set NOTICEWATCH_TEST_POSTGRES=off to run SQLite only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.devtools.site import NoticeSite

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("NOTICEWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] + ([] if POSTGRES_URL == "off" else ["postgresql"])


@contextmanager
def fresh_postgres(prefix: str = "nwtest") -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = make_url(POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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


def run_cli(config: Path | None, *args: str, cwd: Path | None = None, timeout: float = 180,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `noticewatch` as a real process, as a user would."""
    cmd = [sys.executable, "-m", "monitor"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += list(args)
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd or REPO, env=full_env,
                          check=False)
