"""Tables of scale mode: which sources a fleet cycle must crawl, and which it has recorded.

The database, not Redis, is the source of truth for a cycle: every (cycle, source) pair has a
`cycle_item` row, marked done in the same transaction that records its fetch. A fetch whose row is
already done is discarded, so each source is recorded exactly once per cycle however often the
frontier hands it out (a worker killed mid-fetch, Redis restarted empty and rebuilt).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from monitor.core import utcnow


class CrawlCycle(SQLModel, table=True):
    """One cycle put on the shared frontier by `noticewatch enqueue`."""

    __tablename__ = "crawl_cycle"

    id: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    enqueued_by: str | None = None
    sources: int = 0
    finished_at: datetime | None = None


class CycleItem(SQLModel, table=True):
    """One source due in one cycle; `done_at` is set when its fetch is recorded."""

    __tablename__ = "cycle_item"
    __table_args__ = (Index("ix_cycle_item_cycle_done", "cycle_id", "done_at"),)  # a cycle's progress, fast

    cycle_id: str = Field(foreign_key="crawl_cycle.id", primary_key=True, max_length=40)
    source_id: str = Field(foreign_key="source.id", primary_key=True, max_length=80)
    done_at: datetime | None = Field(default=None, index=True)
    worker: str | None = None
