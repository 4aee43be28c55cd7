"""What the crawler remembers of each host between cycles: its robots.txt and when it was last asked.

Kept in the database so every cycle and every fleet worker shares it: a robots.txt is fetched once
per origin and honoured for up to 24 hours (RFC 9309 section 2.4), and a host's last request time
lets the next cycle keep `delay` between two requests to it even across processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import as_utc
from monitor.store.upsert import dialect_insert

ROBOTS_MAX_AGE = timedelta(hours=24)


class RobotsTxt(SQLModel, table=True):
    """The last robots.txt fetched from one origin (scheme://host:port)."""

    __tablename__ = "robots_txt"

    origin: str = Field(primary_key=True, max_length=300)
    status: int
    body: str | None = Field(default=None, sa_column=Column(Text))
    fetched_at: datetime


class CrawlHost(SQLModel, table=True):
    """When a host was last sent a request by any cycle (per-host politeness across cycles)."""

    __tablename__ = "crawl_host"

    host: str = Field(primary_key=True, max_length=255)
    last_request_at: datetime


def robots_fresh(row: RobotsTxt, now: datetime) -> bool:
    """Within the 24 hours RFC 9309 lets a crawler keep a robots.txt?"""
    return now - as_utc(row.fetched_at) < ROBOTS_MAX_AGE


def load_robots(engine: Engine) -> dict[str, RobotsTxt]:
    """Every stored robots.txt, by origin (one query per cycle)."""
    with Session(engine, expire_on_commit=False) as session:
        return {row.origin: row for row in session.exec(select(RobotsTxt))}


def load_last_requests(engine: Engine) -> dict[str, datetime]:
    with Session(engine) as session:
        return {row.host: as_utc(row.last_request_at) for row in session.exec(select(CrawlHost))}


def save_robots(engine: Engine, origin: str, status: int, body: str | None, when: datetime) -> None:
    """Store an origin's robots.txt, replacing the one kept before (one statement: a fleet worker's
    concurrent save of the same origin cannot fail it)."""
    statement = dialect_insert(engine, RobotsTxt.__table__).values(origin=origin, status=status, body=body,
                                                                   fetched_at=when)
    with engine.begin() as conn:
        conn.execute(statement.on_conflict_do_update(index_elements=["origin"], set_={
            "status": statement.excluded.status, "body": statement.excluded.body,
            "fetched_at": statement.excluded.fetched_at}))


def save_last_requests(engine: Engine, last: dict[str, datetime]) -> None:
    """Remember when each host was last asked, every host in one statement; a later time already stored
    (by another worker) wins, so no process ever moves a host's time back."""
    if not last:
        return
    statement = dialect_insert(engine, CrawlHost.__table__)
    table = CrawlHost.__table__
    upsert = statement.on_conflict_do_update(index_elements=["host"], set_={
        "last_request_at": statement.excluded.last_request_at},
        where=table.c.last_request_at < statement.excluded.last_request_at)
    with engine.begin() as conn:
        conn.execute(upsert, [{"host": host, "last_request_at": when} for host, when in last.items()])
