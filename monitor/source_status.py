"""Where each source stands: ok, failing, suspicious, gone (404/410 for N cycles) or moved (a permanent
redirect), kept in one row per source and updated with every recorded fetch.

"Notice gone" and "notice moved" are reported once: the row remembers the cycle that reported them,
and `noticewatch run` prints them in that cycle's summary. A moved source keeps its history and is
fetched at its new address from then on (while the configured address stays the one that moved).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, select

from monitor.document import Document
from monitor.models import Source, utcnow
from monitor.volatile import masked_sha256
from monitor.volatile_sites import load_sites

GONE_STATUSES = (404, 410)


class SourceStatus(SQLModel, table=True):
    """The current standing of one source (one row per source)."""

    __tablename__ = "source_status"

    source_id: str = Field(foreign_key="source.id", primary_key=True, max_length=80)
    state: str = "ok"  # ok | failing | suspicious | gone
    problem: str | None = Field(default=None, sa_column=Column(Text))
    problem_since: datetime | None = None
    consecutive_gone: int = 0
    gone_reported_cycle: str | None = None
    moved_from: str | None = Field(default=None, sa_column=Column(Text))
    moved_to: str | None = Field(default=None, sa_column=Column(Text))
    moved_at: datetime | None = None
    moved_reported_cycle: str | None = None
    found_cycle: str | None = None  # the cycle that found (or re-found) the notice from the home page
    # A suspicious text held back: its hash, how many fetches in a row returned it, in which cycles.
    held_sha256: str | None = Field(default=None, max_length=64)
    held_fetches: int = 0
    held_cycles_json: str | None = Field(default=None, sa_column=Column(Text))
    # A page alternating between two texts: their hashes (JSON list) since the second switch back.
    alternating_json: str | None = Field(default=None, sa_column=Column(Text))
    alternating_since: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class FetchState:
    """What the spider needs to know about a source before fetching it."""

    previous_chars: int | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    discovered_url: str | None = None
    comparison_sha256: str | None = None  # the current version's hash with the volatile sites masked
    sites: tuple = ()  # the source's volatile sites (monitor/volatile.py)
    alternates: tuple[str, ...] = ()  # hashes of the two texts the page alternates between, if it does

    def differs(self, document) -> bool:
        """Would this text be a new version? (Then the spider confirms it with a second fetch.)"""
        if self.comparison_sha256 is None:
            return False
        digest = masked_sha256(document, self.sites)
        return digest != self.comparison_sha256 and digest not in self.alternates


def status_row(session: Session, source_id: str) -> SourceStatus:
    row = session.get(SourceStatus, source_id)
    if row is None:
        row = SourceStatus(source_id=source_id)
        session.add(row)
    return row


def _set_problem(row: SourceStatus, state: str, problem: str | None, when: datetime) -> None:
    if row.state != state or row.problem is None:
        row.problem_since = when
    row.state, row.problem = state, problem


def update_status(session: Session, *, source_id: str, outcome: str, status: int | None, error: str | None,
                  moved_from: str | None, moved_to: str | None, cycle_id: str | None, gone_after: int,
                  when: datetime) -> SourceStatus:
    """Fold one recorded fetch into the source's standing."""
    row = status_row(session, source_id)
    row.updated_at = when
    if moved_to and moved_to != row.moved_to:
        row.moved_from, row.moved_to, row.moved_at, row.moved_reported_cycle = moved_from, moved_to, when, cycle_id
    if outcome == "failed" and status in GONE_STATUSES:
        row.consecutive_gone += 1
        if row.consecutive_gone >= gone_after:
            if row.state != "gone":
                row.gone_reported_cycle = cycle_id
            _set_problem(row, "gone", f"HTTP {status} on {row.consecutive_gone} consecutive cycles", when)
        else:
            _set_problem(row, "failing", error or f"HTTP {status}", when)
        return row
    if outcome == "failed":
        _set_problem(row, "failing", error, when)
    elif outcome == "suspicious":
        _set_problem(row, "suspicious", error, when)
    else:
        row.state, row.problem, row.problem_since = "ok", None, None
        row.held_sha256, row.held_fetches, row.held_cycles_json = None, 0, None  # the run of held-back fetches ends
    row.consecutive_gone = 0
    return row


def fetch_state(session: Session, source_id: str) -> FetchState:
    """The source's last good size, its move (if any), its discovered address and what its current
    text compares as (volatile sites masked)."""
    from monitor.record import latest_version

    version = latest_version(session, source_id)
    row = session.get(SourceStatus, source_id)
    source = session.get(Source, source_id)
    sites = tuple(load_sites(session, source_id))
    comparison = masked_sha256(Document.from_json(version.document_json), sites) if version else None
    return FetchState(previous_chars=version.chars if version else None,
                      moved_from=row.moved_from if row else None, moved_to=row.moved_to if row else None,
                      discovered_url=source.discovered_url if source else None, comparison_sha256=comparison,
                      sites=sites, alternates=tuple(json.loads(row.alternating_json)["hashes"])
                      if row and row.alternating_json else ())


def source_problems(session: Session) -> list[dict]:
    """Sources that are gone, moved, suspicious or failing, for the run summary and the digest."""
    rows = session.exec(select(SourceStatus).order_by(SourceStatus.source_id)).all()
    problems = []
    for row in rows:
        if row.state == "ok" and not row.moved_to:
            continue
        problems.append({"source": row.source_id, "state": row.state, "problem": row.problem,
                         "since": row.problem_since, "moved_from": row.moved_from, "moved_to": row.moved_to,
                         "moved_at": row.moved_at, "consecutive_gone": row.consecutive_gone})
    return problems
