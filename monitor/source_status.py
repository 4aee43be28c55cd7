"""Where each source stands: ok, failing, suspicious, gone (404/410 for N cycles) or moved (a permanent
redirect), kept in one row per source and updated with every recorded fetch.

"Notice gone" and "notice moved" are reported once: the row remembers the cycle that reported them,
and `noticewatch run` prints them in that cycle's summary. A moved source keeps its history and is
fetched at its new address from then on (while the configured address stays the one that moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, select

from monitor.models import Fetch, Source, Version, utcnow

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
    updated_at: datetime = Field(default_factory=utcnow)


GOOD_OUTCOMES = ("first", "changed", "unchanged")


@dataclass(frozen=True)
class FetchState:
    """What the spider needs to know about a source before fetching it.

    `etag`/`last_modified` are the validators of the last good fetch (only when a version exists),
    sent back as If-None-Match / If-Modified-Since.
    """

    previous_chars: int | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    discovered_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    good_blob: str | None = None  # sha256 of the last good fetch's body, when a version exists
    version_rules: str | None = None  # the extraction rules that made the current version

    def same_as_last_good(self, body_sha256: str, rules: str) -> bool:
        """Is this body the last good fetch's, under the rules that made the current version? Then the
        fetch is unchanged and nothing needs parsing."""
        return self.good_blob == body_sha256 and self.version_rules == rules

    def conditional_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


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
    row.consecutive_gone = 0
    return row


def fetch_states(session: Session, source_ids: list[str] | None = None) -> dict[str, FetchState]:
    """Every source's FetchState (or the named ones') in one query: a cycle reads them all at once.

    The latest version and the last good fetch are correlated sub-queries over the indexed
    source_id columns, so the cost is one round trip however many sources there are.
    """
    last_version = (select(Version.id).where(Version.source_id == Source.id).order_by(Version.number.desc())
                    .limit(1).correlate(Source).scalar_subquery())
    last_good = (select(Fetch.id).where(Fetch.source_id == Source.id, Fetch.outcome.in_(GOOD_OUTCOMES))
                 .order_by(Fetch.id.desc()).limit(1).correlate(Source).scalar_subquery())
    query = (select(Source.id, Source.discovered_url, SourceStatus.moved_from, SourceStatus.moved_to,
                    Version.id, Version.chars, Version.rules, Fetch.etag, Fetch.last_modified, Fetch.blob_sha256)
             .select_from(Source).outerjoin(SourceStatus, SourceStatus.source_id == Source.id)
             .outerjoin(Version, Version.id == last_version).outerjoin(Fetch, Fetch.id == last_good))
    if source_ids is not None and len(source_ids) <= 500:
        query = query.where(Source.id.in_(source_ids))
    wanted = set(source_ids) if source_ids is not None else None
    states = {}
    for sid, discovered, moved_from, moved_to, version_id, chars, rules, etag, modified, blob in session.exec(query):
        if wanted is not None and sid not in wanted:
            continue
        versioned = version_id is not None
        states[sid] = FetchState(previous_chars=chars if versioned else None, moved_from=moved_from,
                                 moved_to=moved_to, discovered_url=discovered, etag=etag if versioned else None,
                                 last_modified=modified if versioned else None, good_blob=blob if versioned else None,
                                 version_rules=rules)
    return states


def fetch_state(session: Session, source_id: str) -> FetchState:
    """One source's FetchState (worker mode reads it per claimed source)."""
    return fetch_states(session, [source_id]).get(source_id, FetchState())


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
