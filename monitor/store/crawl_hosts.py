"""What the crawler remembers of each host between cycles: its robots.txt and when it was last asked.

Kept in the database so every cycle and every fleet worker shares it: a robots.txt is fetched once
per origin and honoured for up to 24 hours (RFC 9309 section 2.4), and a host's last request time
lets the next cycle keep `delay` between two requests to it even across processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import as_utc

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


def _upsert(engine: Engine, model: type[SQLModel], key: str, values: dict) -> None:
    for attempt in range(2):
        try:
            with Session(engine) as session:
                row = session.get(model, key) or model(**{model.__table__.primary_key.columns[0].name: key},
                                                       **values)
                for name, value in values.items():
                    setattr(row, name, value)
                session.add(row)
                session.commit()
            return
        except IntegrityError:  # another worker inserted it meanwhile: update theirs
            if attempt:
                raise


def save_robots(engine: Engine, origin: str, status: int, body: str | None, when: datetime) -> None:
    _upsert(engine, RobotsTxt, origin, {"status": status, "body": body, "fetched_at": when})


def save_last_requests(engine: Engine, last: dict[str, datetime]) -> None:
    """Remember when each host was last asked (later times win, so two workers never move it back)."""
    for host, when in last.items():
        with Session(engine) as session:
            row = session.get(CrawlHost, host)
            if row is not None and as_utc(row.last_request_at) >= when:
                continue
        _upsert(engine, CrawlHost, host, {"last_request_at": when})
