"""Helpers of the scale tests: a fresh PostgreSQL database, a private Redis key prefix, worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import redis

from tests.conftest import REPO
from tests.conftest import fresh_postgres as conftest_fresh_postgres

REDIS_URL = os.environ.get("NOTICEWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def fresh_postgres() -> AbstractContextManager[str]:
    """A new, empty PostgreSQL database for one scale test, dropped afterwards."""
    return conftest_fresh_postgres("nwscale")


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


def start_worker(config: Path, log: Path, *extra: str) -> subprocess.Popen:
    """`noticewatch worker` as a real child process."""
    handle = log.open("w")
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "worker", *extra],
                            cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
