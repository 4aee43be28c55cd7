"""INSERT statements that can say what to do on a key already there: SQLite and PostgreSQL spell
ON CONFLICT alike, but SQLAlchemy builds it from each dialect's own `insert`. The statements of every
fetch are built once per dialect (building one costs more than running it on SQLite)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlalchemy import Insert, Table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Executable

_BUILT: dict[tuple[str, str], Executable] = {}


def dialect_insert(bind: Connection | Engine, table: Table) -> Insert:
    """An INSERT into `table` for `bind`'s database, with `on_conflict_do_nothing` / `_do_update`.

    The dialect's module is imported by name: a SQLite installation never loads PostgreSQL's (24 ms).
    """
    dialect = "postgresql" if bind.dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)


def built_once(bind: Connection | Engine, name: str, build: Callable[[Connection | Engine], Executable]) -> Executable:
    """The statement `name` for `bind`'s dialect: `build(bind)` the first time, the same object after."""
    key = (bind.dialect.name, name)
    if key not in _BUILT:
        _BUILT[key] = build(bind)
    return _BUILT[key]
