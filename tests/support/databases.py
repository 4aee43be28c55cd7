"""The real databases of the tests: a fresh PostgreSQL database per test, a private Redis key prefix.

Integration tests take the `db_url` fixture, which runs them once on SQLite and once on the real
PostgreSQL at NOTICEWATCH_TEST_POSTGRES (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
NOTICEWATCH_TEST_POSTGRES=off runs SQLite only (the tests that exist for PostgreSQL alone — fleets,
row locks, storage migration — are then skipped, each saying so).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("NOTICEWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] + ([] if POSTGRES_URL == "off" else ["postgresql"])
REDIS_URL = os.environ.get("NOTICEWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


@contextmanager
def fresh_postgres(prefix: str = "nwtest") -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    if POSTGRES_URL == "off":
        pytest.skip("PostgreSQL turned off by NOTICEWATCH_TEST_POSTGRES=off")
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


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = f"nwtest-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
