"""Per-source health for `noticewatch status` and for cron's `run --due`, read from the history.

A source is stale when it had no successful fetch within `[schedule].stale_after` (or never had one):
that is what monitoring should page on, whatever the reason (site down, blocked, daemon not running).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.config import LoadedConfig
from monitor.core import SUCCESS_OUTCOMES, as_utc, iso_utc
from monitor.schedule.daemon import stored_next_runs
from monitor.schedule.plan import SOURCE_JOB_PREFIX, SchedulePlan
from monitor.store import Change, Fetch, SourceStanding, source_standings

STATUS_SCHEMA = "noticewatch.status/1"




@dataclass
class SourceStatus:
    """One row of `noticewatch status`."""

    source_id: str
    name: str
    last_fetch: datetime | None
    last_outcome: str | None
    last_success: datetime | None
    last_change: datetime | None
    next_run: datetime | None
    next_run_from: str  # "daemon" (its job store) or "schedule" (computed from the configuration)
    consecutive_failures: int
    stale: bool
    standing: SourceStanding

    def to_dict(self) -> dict:
        return {"source": self.source_id, "name": self.name, "last_fetch": iso_utc(self.last_fetch),
                "last_outcome": self.last_outcome, "last_success": iso_utc(self.last_success),
                "last_change": iso_utc(self.last_change), "next_run": iso_utc(self.next_run),
                "next_run_from": self.next_run_from, "consecutive_failures": self.consecutive_failures,
                "stale": self.stale, "standing": self.standing.standing.value,
                "standing_reason": self.standing.reason}


def _latest_by_source(session: Session, column, *where) -> dict[str, datetime]:
    table = column.class_
    query = select(table.source_id, func.max(column)).where(*where).group_by(table.source_id)
    return {source_id: as_utc(value) for source_id, value in session.exec(query).all()}


def last_attempts(engine: Engine) -> dict[str, datetime]:
    """When each source was last fetched (successfully or not)."""
    with Session(engine) as session:
        return _latest_by_source(session, Fetch.fetched_at)


def due_source_ids(engine: Engine, loaded: LoadedConfig, now: datetime | None = None) -> list[str]:
    """Sources whose schedule fired since their last fetch attempt (what cron's `run --due` crawls)."""
    plan = SchedulePlan.from_config(loaded.config)
    return plan.due_sources(last_attempts(engine), now or datetime.now(UTC))


def _consecutive_failures(session: Session, source_id: str) -> int:
    """Fetches since the last successful one (failed and suspicious alike)."""
    last_ok = session.exec(select(func.max(Fetch.id)).where(Fetch.source_id == source_id,
                                                            Fetch.outcome.in_(SUCCESS_OUTCOMES))).one()
    query = select(func.count()).select_from(Fetch).where(Fetch.source_id == source_id)
    if last_ok is not None:
        query = query.where(Fetch.id > last_ok)
    return session.exec(query).one()


def source_statuses(engine: Engine, loaded: LoadedConfig, now: datetime | None = None) -> list[SourceStatus]:
    """The status of every configured source, in configuration order."""
    now = now or datetime.now(UTC)
    plan = SchedulePlan.from_config(loaded.config)
    stale_after = timedelta(seconds=loaded.config.schedule.stale_after)
    stored = stored_next_runs(engine)
    rows = []
    with Session(engine) as session:
        last_fetch = _latest_by_source(session, Fetch.fetched_at)
        last_success = _latest_by_source(session, Fetch.fetched_at, Fetch.outcome.in_(SUCCESS_OUTCOMES))
        last_change = _latest_by_source(session, Change.detected_at)
        standings = source_standings(session, now, stale_after, [src.id for src in loaded.sources])
        for src in loaded.sources:
            latest = session.exec(select(Fetch.outcome).where(Fetch.source_id == src.id)
                                  .order_by(Fetch.id.desc()).limit(1)).first()
            failures = _consecutive_failures(session, src.id) if latest not in (None, *SUCCESS_OUTCOMES) else 0
            job_id = SOURCE_JOB_PREFIX + src.id
            if job_id in stored:
                next_run, origin = stored[job_id], "daemon"
            else:
                next_run, origin = plan.next_run(job_id, now), "schedule"
            success = last_success.get(src.id)
            rows.append(SourceStatus(
                source_id=src.id, name=src.name, last_fetch=last_fetch.get(src.id), last_outcome=latest,
                last_success=success, last_change=last_change.get(src.id), next_run=next_run,
                next_run_from=origin, consecutive_failures=failures,
                stale=success is None or now - success > stale_after, standing=standings[src.id]))
    return rows
