"""Database engine and sessions: SQLite by default, PostgreSQL by URL, same code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from monitor.store import (  # noqa: F401  (register every table on SQLModel.metadata)
    crawl_hosts,
    fleet_tables,
    lock,
    models,
    outbox,
    review,
    search,
    standing,
    volatile,
)
from monitor.store.schema import SCHEMA_LOCK, SchemaMismatch, ensure_schema


class StorageError(Exception):
    """The database cannot be opened or written; phrased for one line of output."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"database {url}: {exc}") from exc
    return engine


__all__ = ["SCHEMA_LOCK", "StorageError", "init_db", "make_engine", "open_db", "session_scope"]


def init_db(engine: Engine) -> None:
    """Build a fresh database with the migrations; refuse one whose schema revision is not the code's."""
    try:
        ensure_schema(engine)
    except SchemaMismatch as exc:
        raise StorageError(f"database {engine.url.render_as_string(hide_password=True)}: {exc}") from None
    except SQLAlchemyError as exc:
        raise StorageError(f"database {engine.url.render_as_string(hide_password=True)}: "
                           f"{str(exc).splitlines()[0]}") from exc


def open_db(url: str) -> Engine:
    engine = make_engine(url)
    init_db(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
