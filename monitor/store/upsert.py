"""INSERT statements that can say what to do on a key already there: SQLite and PostgreSQL spell
ON CONFLICT alike, but SQLAlchemy builds it from each dialect's own `insert`."""

from __future__ import annotations

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine


def dialect_insert(bind: Connection | Engine, table: Table) -> Insert:
    """An INSERT into `table` for `bind`'s database, with `on_conflict_do_nothing` / `_do_update`."""
    return (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(table)
