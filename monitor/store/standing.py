"""Where each source stands — ok, failing, suspicious, gone, moved or stale — decided in one place.

`source_standings` is the one function every surface calls (`status`, the web overview and notice
page, the digest's failing section), so they cannot disagree. Its inputs: the `source_status` row
(kept per source and updated with every recorded fetch: gone after 404/410 on `crawl.gone_after`
consecutive cycles, moved on a permanent redirect), the last fetch and the last good fetch.

"Notice gone" and "notice moved" are reported once: the row remembers the cycle that reported them,
and `noticewatch run` prints them in that cycle's summary. A moved source keeps its history and is
fetched at its new address from then on (while the configured address stays the one that moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Text, func
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import SUCCESS_OUTCOMES, FetchOutcome, Standing, as_utc, iso_utc, utcnow
from monitor.store.models import Fetch, Source, Version

GONE_STATUSES = (404, 410)


class SourceStatus(SQLModel, table=True):
    """The current standing of one source (one row per source)."""

    __tablename__ = "source_status"

    source_id: str = Field(foreign_key="source.id", primary_key=True, max_length=80)
    state: str = Standing.OK  # what the fetches alone say: ok | failing | suspicious | gone
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


@dataclass(frozen=True)
class FetchState:
    """What the spider needs to know about a source before fetching it."""

    previous_chars: int | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    discovered_url: str | None = None


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
    if outcome == FetchOutcome.FAILED and status in GONE_STATUSES:
        row.consecutive_gone += 1
        if row.consecutive_gone >= gone_after:
            if row.state != Standing.GONE:
                row.gone_reported_cycle = cycle_id
            _set_problem(row, Standing.GONE, f"HTTP {status} on {row.consecutive_gone} consecutive cycles", when)
        else:
            _set_problem(row, Standing.FAILING, error or f"HTTP {status}", when)
        return row
    if outcome == FetchOutcome.FAILED:
        _set_problem(row, Standing.FAILING, error, when)
    elif outcome == FetchOutcome.SUSPICIOUS:
        _set_problem(row, Standing.SUSPICIOUS, error, when)
    else:
        row.state, row.problem, row.problem_since = Standing.OK, None, None
    row.consecutive_gone = 0
    return row


def fetch_state(session: Session, source_id: str) -> FetchState:
    """The source's last good size, its move (if any) and its discovered address."""
    version = session.exec(select(Version).where(Version.source_id == source_id)
                           .order_by(Version.number.desc()).limit(1)).first()
    row = session.get(SourceStatus, source_id)
    source = session.get(Source, source_id)
    return FetchState(previous_chars=version.chars if version else None,
                      moved_from=row.moved_from if row else None, moved_to=row.moved_to if row else None,
                      discovered_url=source.discovered_url if source else None)


def source_problems(session: Session) -> list[dict]:
    """Sources that are gone, moved, suspicious or failing, for the run summary and the digest."""
    rows = session.exec(select(SourceStatus).order_by(SourceStatus.source_id)).all()
    problems = []
    for row in rows:
        if row.state == Standing.OK and not row.moved_to:
            continue
        problems.append({"source": row.source_id, "state": row.state, "problem": row.problem,
                         "since": row.problem_since, "moved_from": row.moved_from, "moved_to": row.moved_to,
                         "moved_at": row.moved_at, "consecutive_gone": row.consecutive_gone})
    return problems


@dataclass(frozen=True)
class StandingFacts:
    """What a source's standing is decided from (read for all sources at once by `standing_facts`)."""

    configured_url: str | None = None
    last_outcome: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    state: str | None = None  # the source_status row's state
    problem: str | None = None
    problem_since: datetime | None = None
    moved_from: str | None = None
    moved_to: str | None = None


@dataclass(frozen=True)
class SourceStanding:
    """A source's standing with a one-line reason ("" when ok) and since when it has held (if known)."""

    standing: Standing
    reason: str = ""
    since: datetime | None = None


def standing_facts(session: Session, source_ids: list[str] | None = None) -> dict[str, StandingFacts]:
    """The facts of every source (or of `source_ids`) in three queries, whatever the number of sources."""
    last_ids = select(func.max(Fetch.id)).group_by(Fetch.source_id)
    last = {row.source_id: row for row in session.exec(
        select(Fetch.source_id, Fetch.outcome, Fetch.status, Fetch.error, Fetch.fetched_at)
        .where(Fetch.id.in_(last_ids))).all()}
    success = dict(session.exec(select(Fetch.source_id, func.max(Fetch.fetched_at))
                                .where(Fetch.outcome.in_(SUCCESS_OUTCOMES)).group_by(Fetch.source_id)).all())
    rows = {row.source_id: row for row in session.exec(select(SourceStatus)).all()}
    sources = {row.id: row for row in session.exec(select(Source)).all()}
    facts = {}
    for source_id in source_ids if source_ids is not None else sources:
        fetch, row, source = last.get(source_id), rows.get(source_id), sources.get(source_id)
        facts[source_id] = StandingFacts(
            configured_url=source.url if source else None,
            last_outcome=fetch.outcome if fetch else None, last_status=fetch.status if fetch else None,
            last_error=fetch.error if fetch else None, last_fetched_at=as_utc(fetch.fetched_at) if fetch else None,
            last_success_at=as_utc(success.get(source_id)),
            state=row.state if row else None, problem=row.problem if row else None,
            problem_since=as_utc(row.problem_since) if row else None,
            moved_from=row.moved_from if row else None, moved_to=row.moved_to if row else None)
    return facts


def decide_standing(facts: StandingFacts | None, now: datetime, stale_after: timedelta) -> SourceStanding:
    """The one rule, in order: never fetched → stale; gone; last fetch failed → failing (one 404 too, until
    `gone_after`); last fetch held back → suspicious; no good fetch within `stale_after` → stale; a
    permanent redirect the configuration still points at the old address of → moved; else ok."""
    if facts is None or facts.last_outcome is None:
        return SourceStanding(Standing.STALE, "never fetched")
    if facts.state == Standing.GONE:
        return SourceStanding(Standing.GONE, facts.problem or f"HTTP {facts.last_status}", facts.problem_since)
    if facts.last_outcome == FetchOutcome.FAILED:
        reason = facts.last_error or (f"HTTP {facts.last_status}" if facts.last_status else "failed")
        return SourceStanding(Standing.FAILING, reason, facts.problem_since or facts.last_fetched_at)
    if facts.last_outcome == FetchOutcome.SUSPICIOUS:
        return SourceStanding(Standing.SUSPICIOUS, facts.last_error or "suspicious fetch",
                              facts.problem_since or facts.last_fetched_at)
    if facts.last_success_at is None or now - facts.last_success_at > stale_after:
        return SourceStanding(Standing.STALE, f"last good fetch {iso_utc(facts.last_success_at) or 'never'}",
                              facts.last_success_at)
    if facts.moved_to and (facts.configured_url is None or facts.configured_url == facts.moved_from):
        return SourceStanding(Standing.MOVED, f"now at {facts.moved_to}")
    return SourceStanding(Standing.OK)


def source_standings(session: Session, now: datetime, stale_after: timedelta,
                     source_ids: list[str] | None = None) -> dict[str, SourceStanding]:
    """The standing of every source (or of `source_ids`): what status, web and digest all show."""
    return {source_id: decide_standing(facts, now, stale_after)
            for source_id, facts in standing_facts(session, source_ids).items()}
