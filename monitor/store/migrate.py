"""Copy a whole installation to another database (and snapshot directory), verified, resumable.

Tables are copied parent before child, in primary-key order, in batches that each commit: a batch
whose rows are already in the target is skipped, so an interrupted copy resumes where it stopped.
Afterwards every table is compared by row count and by a hash over its rows in key order, every
snapshot file by its sha256; PostgreSQL sequences are moved past the copied ids.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Integer, Table, func, select, text, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from monitor.archive import Archive, ArchiveError
from monitor.store.db import StorageError
from monitor.store.models import Blob


@dataclass
class MigrationReport:
    """Rows per table copied now / present in the target, and snapshot files copied / verified."""

    copied: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    blobs_copied: int = 0
    blobs_verified: int = 0

    def lines(self) -> list[str]:
        out = [f"{name}: {self.rows[name]} rows ({self.copied[name]} copied now), count and hash verified"
               for name in self.rows]
        out.append(f"snapshots: {self.blobs_verified} files verified ({self.blobs_copied} copied now)")
        return out


def _tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def _normal(value: object) -> object:
    """Compare values the same on SQLite and PostgreSQL (naive UTC times, exact types)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    return value


def _rows(engine: Engine, table: Table, batch: int) -> Iterator[list[dict]]:
    pk = list(table.primary_key.columns)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(table).order_by(*pk))
        for part in result.partitions(batch):
            yield [dict(row._mapping) for row in part]


def _present(conn, table: Table, rows: list[dict]) -> set[tuple]:
    pk = list(table.primary_key.columns)
    keys = [tuple(row[c.name] for c in pk) for row in rows]
    if len(pk) == 1:
        found = conn.execute(select(pk[0]).where(pk[0].in_([k[0] for k in keys])))
    else:
        found = conn.execute(select(*pk).where(tuple_(*pk).in_(keys)))
    return {tuple(r) for r in found}


def table_digest(engine: Engine, table: Table) -> tuple[int, str]:
    """Row count and a sha256 over all rows in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    for part in _rows(engine, table, 1000):
        for row in part:
            digest.update(repr([_normal(row[c.name]) for c in table.columns]).encode())
            count += 1
    return count, digest.hexdigest()


def _reset_sequences(target: Engine) -> None:
    if target.dialect.name != "postgresql":
        return
    with target.begin() as conn:
        for table in _tables():
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": table.name, "c": pk[0].name}).scalar()
                if seq:
                    top = conn.execute(select(func.max(pk[0]))).scalar() or 0
                    conn.execute(text("SELECT setval(:seq, :next, false)"), {"seq": seq, "next": top + 1})


def check_target_is_partial_copy(source: Engine, target: Engine) -> None:
    """Refuse, before writing anything, a target holding rows that are not this installation's."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        for rows in _rows(target, table, 500):
            with source.connect() as conn:
                keys = [tuple(r[c.name] for c in pk) for r in rows]
                where = pk[0].in_([k[0] for k in keys]) if len(pk) == 1 else tuple_(*pk).in_(keys)
                theirs = {tuple(r[c.name] for c in pk): r for r in
                          (dict(row._mapping) for row in conn.execute(select(table).where(where)))}
            for key, row in zip(keys, rows, strict=True):
                mine = theirs.get(key)
                if mine is None or any(_normal(mine[c.name]) != _normal(row[c.name]) for c in table.columns):
                    raise StorageError(f"migrate-storage: the target holds data that is not from this "
                                       f"installation (table {table.name}, key {key[0] if len(key) == 1 else key})")


def copy_database(source: Engine, target: Engine, batch: int = 500,
                  progress: Callable[[str, int], None] | None = None) -> MigrationReport:
    """Copy every table's missing rows from source to target (opened by open_db), then verify."""
    check_target_is_partial_copy(source, target)
    report = MigrationReport()
    for table in _tables():
        copied = 0
        for rows in _rows(source, table, batch):
            with target.begin() as conn:
                present = _present(conn, table, rows)
                pk = [c.name for c in table.primary_key.columns]
                missing = [r for r in rows if tuple(r[name] for name in pk) not in present]
                if missing:
                    conn.execute(table.insert(), missing)
            copied += len(missing)
            if progress is not None:
                progress(table.name, copied)
        report.copied[table.name] = copied
    _reset_sequences(target)
    for table in _tables():
        source_count, source_hash = table_digest(source, table)
        target_count, target_hash = table_digest(target, table)
        if (source_count, source_hash) != (target_count, target_hash):
            raise StorageError(f"migrate-storage: table {table.name} differs after copying "
                               f"({source_count} rows in the source, {target_count} in the target; "
                               "was the target in use already?)")
        report.rows[table.name] = target_count
    return report


def copy_snapshots(source: Engine, from_dir: Path, to_dir: Path, report: MigrationReport) -> None:
    """Copy every blob the database refers to, verifying each file's sha256 in the target."""
    old, new = Archive(from_dir), Archive(to_dir)
    new.check_writable()
    with source.connect() as conn:
        hashes = [row[0] for row in conn.execute(select(Blob.sha256).order_by(Blob.sha256))]
    for sha in hashes:
        try:
            new.get(sha)
        except ArchiveError:
            target = new.path_for(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".tmp-migrate-{sha}")
            try:
                shutil.copyfile(old.path_for(sha), partial)
            except OSError as exc:
                raise ArchiveError(f"cannot copy snapshot {sha}: {exc}") from exc
            partial.replace(target)
            new.get(sha)
            report.blobs_copied += 1
        report.blobs_verified += 1

