"""Per-source crawl locks in the database, so two cycles never crawl the same source at once.

The lock lives in the history database (table `crawl_lock`), so it holds across processes and across
machines that share one PostgreSQL. A holder renews its locks while it crawls (a heartbeat); a holder
that was killed stops renewing, and its locks expire after `[schedule].lock_ttl`.

Acquiring is one atomic statement on both SQLite and PostgreSQL: an UPDATE that takes over an expired
(or our own) row, else an INSERT that the primary key lets only one contender win. A cycle takes all its
sources' locks that way in one transaction (`acquire_many`), and only the ones it did not get one by one.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from monitor.core import as_utc, iso_utc, utcnow
from monitor.store.upsert import dialect_insert


class CrawlLock(SQLModel, table=True):
    """Who crawls a source right now, and until when that claim holds without a heartbeat."""

    __tablename__ = "crawl_lock"

    name: str = Field(primary_key=True, max_length=200)
    owner: str = Field(max_length=200)
    acquired_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


_TABLE = CrawlLock.__table__


def new_owner() -> str:
    """host:pid:random — unique per holder, readable in a 'locked by' message."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lock_name(source_id: str) -> str:
    return f"source:{source_id}"


def acquire(engine: Engine, name: str, owner: str, ttl: float, now: datetime | None = None) -> bool:
    """Take the lock `name` for `owner` unless someone else holds it unexpired; True when taken."""
    now = as_utc(now or utcnow())
    values = {"owner": owner, "acquired_at": now, "expires_at": now + timedelta(seconds=ttl)}
    with engine.begin() as conn:
        taken = conn.execute(update(_TABLE).where(_TABLE.c.name == name,
                                                  or_(_TABLE.c.expires_at < now, _TABLE.c.owner == owner))
                             .values(**values)).rowcount
    if taken == 1:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(_TABLE).values(name=name, **values))
    except IntegrityError:
        return _take_over_dead(engine, name, values)
    return True


def acquire_many(engine: Engine, names: list[str], owner: str, ttl: float, now: datetime | None = None) -> set[str]:
    """`acquire` for many locks in one transaction: each free, expired or already ours is taken by the same
    two statements (UPDATE, then INSERT that skips a name someone holds), in name order so two contenders
    meet in the same order. Returns the names taken; the others are `acquire`d one by one (which takes
    over a killed process's lock)."""
    names = sorted(set(names))
    if not names:
        return set()
    now = as_utc(now or utcnow())
    values = {"owner": owner, "acquired_at": now, "expires_at": now + timedelta(seconds=ttl)}
    free = or_(_TABLE.c.expires_at < now, _TABLE.c.owner == owner)
    with engine.begin() as conn:
        conn.execute(update(_TABLE).where(_TABLE.c.name.in_(names), free).values(**values))
        conn.execute(dialect_insert(conn, _TABLE).on_conflict_do_nothing(index_elements=["name"]),
                     [{"name": name, **values} for name in names])
        mine = select(_TABLE.c.name).where(_TABLE.c.name.in_(names), _TABLE.c.owner == owner)
        return set(conn.execute(mine).scalars())


def owner_is_dead(owner: str) -> bool:
    """True only for an owner on this host whose process no longer exists (other hosts: wait for the TTL)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _take_over_dead(engine: Engine, name: str, values: dict) -> bool:
    """A lock left by a killed process on this host is ours at once: compare-and-set on its owner."""
    row = holders(engine, [name]).get(name)
    if row is None or not owner_is_dead(row.owner):
        return False
    with engine.begin() as conn:
        return conn.execute(update(_TABLE).where(_TABLE.c.name == name, _TABLE.c.owner == row.owner)
                            .values(**values)).rowcount == 1


def force_release(engine: Engine, names: list[str] | None = None) -> list[CrawlLock]:
    """`noticewatch unlock`: drop these locks (all when None) whoever holds them; returns what was dropped."""
    with engine.begin() as conn:
        query = select(_TABLE) if names is None else select(_TABLE).where(_TABLE.c.name.in_(names))
        rows = [CrawlLock(**row._mapping) for row in conn.execute(query).all()]
        for row in rows:
            conn.execute(delete(_TABLE).where(_TABLE.c.name == row.name, _TABLE.c.owner == row.owner))
    return rows


def renew(engine: Engine, names: list[str], owner: str, ttl: float, now: datetime | None = None) -> int:
    """Push the expiry of our locks forward; returns how many we still hold."""
    if not names:
        return 0
    now = as_utc(now or utcnow())
    with engine.begin() as conn:
        return conn.execute(update(_TABLE).where(_TABLE.c.name.in_(names), _TABLE.c.owner == owner)
                            .values(expires_at=now + timedelta(seconds=ttl))).rowcount


def release(engine: Engine, names: list[str], owner: str) -> None:
    """Drop our locks (someone else's, taken over after ours expired, stay)."""
    if names:
        with engine.begin() as conn:
            conn.execute(delete(_TABLE).where(_TABLE.c.name.in_(names), _TABLE.c.owner == owner))


def holders(engine: Engine, names: list[str]) -> dict[str, CrawlLock]:
    """The current rows of these locks (expired ones included)."""
    with engine.connect() as conn:
        rows = conn.execute(select(_TABLE).where(_TABLE.c.name.in_(names))).all()
    return {row.name: CrawlLock(**row._mapping) for row in rows}


@dataclass
class Claim:
    """The sources a cycle may crawl (`held`) and those another holder is crawling (`skipped`)."""

    owner: str
    held: list[str] = field(default_factory=list)
    skipped: dict[str, CrawlLock] = field(default_factory=dict)

    def skipped_message(self) -> str:
        parts = [f"{sid} (locked by {lock.owner} until {iso_utc(lock.expires_at)})"
                 for sid, lock in sorted(self.skipped.items())]
        return f"skipped {len(parts)} source(s) being crawled elsewhere: " + ", ".join(parts)


class _Heartbeat(threading.Thread):
    """Renews the claim's locks every ttl/3 until stopped."""

    def __init__(self, engine: Engine, claim: Claim, ttl: float) -> None:
        super().__init__(name="lock-heartbeat", daemon=True)
        self.engine, self.claim, self.ttl = engine, claim, ttl
        self.stopped = threading.Event()

    def run(self) -> None:
        names = [lock_name(s) for s in self.claim.held]
        while not self.stopped.wait(self.ttl / 3):
            try:
                renew(self.engine, names, self.claim.owner, self.ttl)
            except Exception:  # a database hiccup: try again at the next beat, the TTL leaves room
                continue


@contextmanager
def claim_sources(engine: Engine, source_ids: list[str], ttl: float, owner: str | None = None) -> Iterator[Claim]:
    """Lock each source we can, keep the locks alive while the block runs, release them after."""
    claim = Claim(owner=owner or new_owner())
    taken = acquire_many(engine, [lock_name(s) for s in source_ids], claim.owner, ttl)
    for source_id in source_ids:
        if lock_name(source_id) in taken or acquire(engine, lock_name(source_id), claim.owner, ttl):
            claim.held.append(source_id)
    if len(claim.held) < len(source_ids):
        locked = holders(engine, [lock_name(s) for s in source_ids if s not in claim.held])
        for source_id in source_ids:
            if source_id in claim.held:
                continue
            row = locked.get(lock_name(source_id))
            if row is not None:
                claim.skipped[source_id] = row
            elif acquire(engine, lock_name(source_id), claim.owner, ttl):  # released meanwhile
                claim.held.append(source_id)
    heartbeat = _Heartbeat(engine, claim, ttl)
    heartbeat.start()
    try:
        yield claim
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
        release(engine, [lock_name(s) for s in claim.held], claim.owner)
