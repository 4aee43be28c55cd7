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

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Text, func
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import ACCEPTED_OUTCOMES, SUCCESS_OUTCOMES, Document, FetchOutcome, Standing, as_utc, iso_utc, utcnow
from monitor.diff import masked_sha256
from monitor.store.models import Fetch, Source, Version
from monitor.store.upsert import built_once, dialect_insert
from monitor.store.volatile import sites_by_source

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
    """What the spider needs to know about a source before fetching it.

    `etag`/`last_modified` are the validators of the last good fetch (only when a version exists),
    sent back as If-None-Match / If-Modified-Since.
    """

    previous_chars: int | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    discovered_url: str | None = None
    comparison_sha256: str | None = None  # the current version's hash with the volatile sites masked
    sites: tuple = ()  # the source's volatile sites (monitor/diff/volatile.py)
    alternates: tuple[str, ...] = ()  # hashes of the two texts the page alternates between, if it does

    def differs(self, document: Document) -> bool:
        """Would this text be a new version? (Then the spider confirms it with a second fetch.)"""
        return self.comparison_sha256 is not None and self.differs_by(masked_sha256(document, self.sites))

    def differs_by(self, masked: str) -> bool:
        """`differs`, given the text's hash with this state's volatile sites masked (computed already)."""
        return self.comparison_sha256 is not None and masked != self.comparison_sha256 \
            and masked not in self.alternates
    etag: str | None = None
    last_modified: str | None = None
    good_blob: str | None = None  # sha256 of the last good fetch's body, when a version exists
    good_markup: str | None = None  # the hash of the markup the last good fetch's Document was made from
    version_rules: str | None = None  # the extraction rules that made the current version

    def same_as_last_good(self, body_sha256: str, rules: str) -> bool:
        """Is this body the last good fetch's, under the rules that made the current version? Then the
        fetch is unchanged and nothing needs parsing."""
        return self.good_blob == body_sha256 and self.version_rules == rules

    def known_markup(self, rules: str) -> str | None:
        """The markup hash (monitor.extract.markup_sha256) of a body that makes the last good fetch's
        Document under `rules`, the rules of the current version: such a body is unchanged and need not be
        extracted. None when there is no such shortcut."""
        return self.good_markup if self.version_rules == rules else None

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


_STATUS = SourceStatus.__table__
# What a good fetch sets on the standing row (the end of any run of failures or held-back fetches).
_GOOD = {"state": Standing.OK, "problem": None, "problem_since": None, "held_sha256": None, "held_fetches": 0,
         "held_cycles_json": None, "consecutive_gone": 0}


def _loaded(session: Session, source_id: str) -> bool:
    """Is the source's standing row in this session already (read or added through the ORM)?"""
    return any(isinstance(obj, SourceStatus) and obj.source_id == source_id
               for obj in (*session.new, *session.identity_map.values()))


def _good_upsert(bind: Connection) -> Executable:
    """INSERT ... ON CONFLICT DO UPDATE of a good fetch's standing."""
    stmt = dialect_insert(bind, _STATUS)
    return stmt.on_conflict_do_update(index_elements=["source_id"],
                                      set_={key: stmt.excluded[key] for key in ("updated_at", *_GOOD)})


def _mark_good(session: Session, source_id: str, when: datetime) -> None:
    """A good fetch's standing in one statement: insert the row, or update it in place."""
    conn = session.connection()
    conn.execute(built_once(conn, "good standing", _good_upsert), {"source_id": source_id, "updated_at": when, **_GOOD})


def update_status(session: Session, *, source_id: str, outcome: str, status: int | None, error: str | None,
                  moved_from: str | None, moved_to: str | None, cycle_id: str | None, gone_after: int,
                  when: datetime, found: bool = False) -> None:
    """Fold one recorded fetch into the source's standing; `found`: the fetch found its notice from the
    home page anew. A good fetch with nothing else to note (the common case) is one upsert."""
    if outcome not in (FetchOutcome.FAILED, FetchOutcome.SUSPICIOUS) and not moved_to and not found \
            and not _loaded(session, source_id):
        _mark_good(session, source_id, when)
        return
    row = status_row(session, source_id)
    row.updated_at = when
    if found:
        row.found_cycle = cycle_id
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
        return
    if outcome == FetchOutcome.FAILED:
        _set_problem(row, Standing.FAILING, error, when)
    elif outcome == FetchOutcome.SUSPICIOUS:
        _set_problem(row, Standing.SUSPICIOUS, error, when)
    else:
        for key, value in _GOOD.items():  # the same columns as the one-statement path
            setattr(row, key, value)
    row.consecutive_gone = 0


def _comparison_sha256(session: Session, version_id: int | None, text_hash: str | None, sites: tuple) -> str | None:
    """What the current version compares as: its stored hash, or (volatile sites known) its masked text's."""
    if version_id is None:
        return None
    if not sites:
        return text_hash
    return masked_sha256(Document.from_json(session.get(Version, version_id).document_json), sites)


def fetch_states(session: Session, source_ids: list[str] | None = None) -> dict[str, FetchState]:
    """Every source's FetchState (or the named ones') in one query: a cycle reads them all at once.

    The latest version and the last good fetch are correlated sub-queries over the indexed
    source_id columns, so the cost is one round trip however many sources there are.
    """
    last_version = (select(Version.id).where(Version.source_id == Source.id).order_by(Version.number.desc())
                    .limit(1).correlate(Source).scalar_subquery())
    last_good = (select(Fetch.id).where(Fetch.source_id == Source.id, Fetch.outcome.in_(tuple(ACCEPTED_OUTCOMES)))
                 .order_by(Fetch.id.desc()).limit(1).correlate(Source).scalar_subquery())
    query = (select(Source.id, Source.discovered_url, SourceStatus.moved_from, SourceStatus.moved_to,
                    SourceStatus.alternating_json, Version.id, Version.chars, Version.rules, Version.text_sha256,
                    Fetch.etag, Fetch.last_modified, Fetch.blob_sha256, Fetch.markup_sha256)
             .select_from(Source).outerjoin(SourceStatus, SourceStatus.source_id == Source.id)
             .outerjoin(Version, Version.id == last_version).outerjoin(Fetch, Fetch.id == last_good))
    if source_ids is not None and len(source_ids) <= 500:
        query = query.where(Source.id.in_(source_ids))
    wanted = set(source_ids) if source_ids is not None else None
    states = {}
    sites_of = sites_by_source(session)
    for (sid, discovered, moved_from, moved_to, alternating, version_id, chars, rules, text_hash, etag, modified,
         blob, markup) in session.exec(query):
        if wanted is not None and sid not in wanted:
            continue
        versioned = version_id is not None
        sites = tuple(sites_of.get(sid, ()))
        states[sid] = FetchState(previous_chars=chars if versioned else None, moved_from=moved_from,
                                 moved_to=moved_to, discovered_url=discovered, etag=etag if versioned else None,
                                 last_modified=modified if versioned else None, good_blob=blob if versioned else None,
                                 good_markup=markup if versioned else None,
                                 version_rules=rules, sites=sites,
                                 comparison_sha256=_comparison_sha256(session, version_id, text_hash, sites),
                                 alternates=tuple(json.loads(alternating)["hashes"]) if alternating else ())
    return states


def fetch_state(session: Session, source_id: str) -> FetchState:
    """One source's FetchState (worker mode reads it per claimed source)."""
    return fetch_states(session, [source_id]).get(source_id, FetchState())


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
    # An interrupted fetch (SIGTERM mid-cycle) says nothing about the notice: the one before it stands.
    last_ids = select(func.max(Fetch.id)).where(Fetch.outcome != FetchOutcome.INTERRUPTED).group_by(Fetch.source_id)
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
