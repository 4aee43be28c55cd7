"""Schema versions with Alembic: upgrade in place, and refuse to run on a schema older or newer than the code.

A fresh database is created by running every migration; a database made before migrations existed
(by `create_all`) is stamped with the first revision. Every later start checks the database's
revision against the code's head and stops with one line (exit 3) if they differ.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"


def include_object(_obj, _name, type_: str, reflected: bool, compare_to) -> bool:
    """Leave alone what other code creates outside the models (e.g. the SQLite full-text index tables)."""
    return not (type_ in ("table", "index") and reflected and compare_to is None)


def schema_diff(conn: Connection) -> list:
    """What the database lacks or has differently from the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from sqlmodel import SQLModel



    context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


class SchemaMismatch(Exception):
    """The database's schema revision is not the one this code needs; phrased for one line."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _adopt(conn: Connection) -> str:
    """Stamp a database made by `create_all` (before migrations existed) with the revision it matches."""
    revision = BASELINE if schema_diff(conn) else "head"
    command.stamp(alembic_config(conn), revision)
    return current_revision(conn) or BASELINE


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the head revision; returns (before, after)."""
    with engine.begin() as conn:
        before = current_revision(conn)
        if before is None and inspect(conn).get_table_names():
            before = _adopt(conn)
        command.upgrade(alembic_config(conn), "head")
    return before, head_revision()


def ensure_schema(engine: Engine) -> None:
    """Create a fresh database; otherwise require exactly the head revision."""
    head = head_revision()
    with engine.begin() as conn:
        current = current_revision(conn)
        fresh = current is None and not inspect(conn).get_table_names()
    if fresh:
        upgrade(engine)
        return
    if current is None:
        with engine.begin() as conn:
            current = _adopt(conn)
    if current == head:
        return
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise SchemaMismatch(f"database schema is at revision {current}, this noticewatch needs {head}: "
                             "run `noticewatch db upgrade`")
    raise SchemaMismatch(f"database schema revision {current} is newer than this noticewatch knows "
                         f"(it needs {head}): upgrade noticewatch")
