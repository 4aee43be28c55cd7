"""PostgreSQL advisory locks: one enqueuer at a time, one daemon leader among many machines.

On SQLite (one machine by design) every lock is granted at once. The lock lives on a dedicated
connection, so it is released when that connection ends, e.g. when the holder's machine dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Try to become the one holder of `name`; keep it while the connection lives."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = lock_key(name)
        self._conn: Connection | None = None

    @property
    def postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """True if this process holds the lock now (it may have held it already)."""
        if not self.postgresql:
            return True
        if self._conn is not None and self.still_held():
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar():
            self._conn = conn
            return True
        conn.close()
        return False

    def still_held(self) -> bool:
        """False once the lock's connection is gone (then another process may lead)."""
        if not self.postgresql:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except SQLAlchemyError:
            pass
        finally:
            self._conn.close()
            self._conn = None


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold `name` for the block, waiting for another holder to finish first."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = lock_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
