"""Schema versions with Alembic: upgrade in place, and refuse to run on a schema older or newer than the code.

A fresh database is created by running every migration, in one transaction, by one process while
concurrent starters wait (`schema_transaction`); a database made before migrations existed (by
`create_all`) is stamped with the first revision. Every later start checks the database's revision
against the code's head, and that its tables exist, and stops with one line (exit 3) if not; a
half-made database (stamped, tables missing: a first run killed before this fix) is repaired by
`noticewatch db upgrade`.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from monitor.store.leader import advisory_lock

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments, about 0.13 s to import) is loaded only when the schema is built,
# upgraded or found wrong: a start on a database at head reads its revision with one query.

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The advisory lock (PostgreSQL) that serialises schema creation and upgrades across processes.
SCHEMA_LOCK = "noticewatch.schema"
BASELINE = "0001"


def include_object(_obj, _name, type_: str, reflected: bool, compare_to) -> bool:
    """Leave alone what other code creates outside the models (e.g. the SQLite full-text index tables)."""
    return not (type_ in ("table", "index") and reflected and compare_to is None)


def schema_diff(conn: Connection) -> list:
    """What the database lacks or has differently from the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


class SchemaMismatch(Exception):
    """The database's schema revision is not the one this code needs; phrased for one line."""


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration's revision, read from the migration files' `revision`/`down_revision` literals.

    The same answer as Alembic's `ScriptDirectory.get_current_head()` (a test holds them equal),
    without importing Alembic; a tree that is not one line of revisions is left to Alembic to judge.
    """
    parents: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        names = dict(_module_literals(path))
        if "revision" in names:
            parents[names["revision"]] = names.get("down_revision")
    heads = set(parents) - set(parents.values())
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _module_literals(path: Path) -> Iterator[tuple[str, object]]:
    """`name = literal` and `name: type = literal` at a module's top level."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
            try:
                yield target.id, ast.literal_eval(node.value)
            except ValueError:
                continue


def current_revision(connection: Connection) -> str | None:
    """The database's stamped revision (Alembic's `alembic_version` table), None when it has none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _adopt(conn: Connection) -> str:
    """Stamp a database made by `create_all` (before migrations existed) with the revision it matches."""
    from alembic import command

    revision = BASELINE if schema_diff(conn) else "head"
    command.stamp(alembic_config(conn), revision)
    return current_revision(conn) or BASELINE


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """All schema work in one transaction, by one process at a time; the others wait, then see its result.

    PostgreSQL: an advisory lock, and its DDL is transactional anyway. SQLite: pysqlite commits each
    CREATE TABLE on its own (it only opens transactions for DML), so a kill between two of them
    left a database stamped but without its tables; here the driver's transaction handling is
    switched off for this one connection and `BEGIN IMMEDIATE` takes the write lock first (other
    starters wait on it for the busy timeout), so the file is either empty or complete.
    """
    with advisory_lock(engine, SCHEMA_LOCK), engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.connection.dbapi_connection.isolation_level = None
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            with conn.begin() if not conn.in_transaction() else nullcontext():
                yield conn
            if conn.in_transaction():
                conn.commit()
        finally:
            if sqlite:
                conn.invalidate()  # never hand this differently-configured driver connection back to the pool


def baseline_tables() -> set[str]:
    """The tables the first migration creates: every stamped database has them, whatever its revision."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config()).get_revision(BASELINE)
    return set(re.findall(r"create_table\(\s*['\"](\w+)['\"]", Path(script.path).read_text(encoding="utf-8")))


def missing_tables(conn: Connection, revision: str | None = None) -> list[str]:
    """Tables a database stamped at `revision` must have but lacks (a half-made database).

    At head that is every model table; at an older revision, the baseline's tables.
    """
    from sqlmodel import SQLModel

    present = set(inspect(conn).get_table_names())
    wanted = set(SQLModel.metadata.tables) if revision in (None, head_revision()) else baseline_tables()
    return sorted(name for name in wanted if name not in present)


def _repair(conn: Connection, revision: str, missing: list[str]) -> str:
    """Rebuild a half-made database; returns the one line saying what was done.

    A killed first run leaves nothing but empty tables: they are dropped and the schema is built
    afresh. A database holding rows keeps them: the missing tables are created at the models'
    shape and the database is stamped at head, if the result then matches the models exactly.
    """
    from alembic import command
    from sqlmodel import SQLModel

    present = [t for t in inspect(conn).get_table_names() if t in SQLModel.metadata.tables or t == "alembic_version"]
    rows = sum(conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{t}"').scalar_one()  # noqa: S608 (our own table names)
               for t in present if t != "alembic_version")
    what = f"revision {revision} stamped, {len(missing)} of {len(SQLModel.metadata.tables)} tables missing"
    if rows == 0:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in present:
                table.drop(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        command.upgrade(alembic_config(conn), "head")
        return f"repaired a half-made database ({what}, no rows): built afresh"
    SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables[name] for name in missing])
    if schema_diff(conn):
        raise SchemaMismatch(f"database is half-made ({what}) and holds rows; it cannot be repaired "
                             "automatically: restore it from a backup or `noticewatch db copy` what is left")
    command.stamp(alembic_config(conn), "head")
    return f"repaired a half-made database ({what}): created the missing tables"


def upgrade(engine: Engine) -> tuple[str | None, str, str | None]:
    """Bring the database to the head revision, repairing a half-made one; returns (before, after, repair note)."""
    from alembic import command

    note = None
    with schema_transaction(engine) as conn:
        before = current_revision(conn)
        if before is None and inspect(conn).get_table_names():
            before = _adopt(conn)
        missing = missing_tables(conn, before) if before is not None else []
        if missing:
            note = _repair(conn, before or BASELINE, missing)
        command.upgrade(alembic_config(conn), "head")
    return before, head_revision(), note


def _check(conn: Connection, head: str) -> str | None:
    """None when the database is at `head` and complete; else the one-line reason (or "fresh")."""
    current = current_revision(conn)
    if current is None:
        return "fresh" if not inspect(conn).get_table_names() else "adopt"
    missing = missing_tables(conn, current)
    if missing:
        return (f"database is half-made (revision {current} stamped, {len(missing)} tables missing, "
                f"e.g. {missing[0]}): run `noticewatch db upgrade` to repair it")
    if current != head:
        from alembic.script import ScriptDirectory

        known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if current in known:
            return (f"database schema is at revision {current}, this noticewatch needs {head}: "
                    "run `noticewatch db upgrade`")
        return (f"database schema revision {current} is newer than this noticewatch knows "
                f"(it needs {head}): upgrade noticewatch")
    return None


def ensure_schema(engine: Engine) -> None:
    """Create a fresh database (atomically, once); otherwise require exactly the head revision.

    The common case, a database at head, is a read without locks; only a fresh (or pre-migration)
    database takes the schema transaction, and checks again inside it: a concurrent starter may
    have built it meanwhile.
    """
    head = head_revision()
    with engine.connect() as conn:
        problem = _check(conn, head)
    if problem is None:
        return
    if problem in ("fresh", "adopt"):
        with schema_transaction(engine) as conn:
            problem = _check(conn, head)
            if problem == "fresh":
                from alembic import command

                command.upgrade(alembic_config(conn), "head")
                return
            if problem == "adopt":
                _adopt(conn)
                problem = _check(conn, head)
    if problem is not None:
        raise SchemaMismatch(problem)
