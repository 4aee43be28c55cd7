"""Which watched notices are failing, so a digest shows silent breakage next to the changes.

A notice is listed when its standing (`source_standings`, the one rule every surface shares) is
failing, suspicious or gone and its last `threshold` fetches all missed the notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from monitor.core import SUCCESS_OUTCOMES, Standing
from monitor.store.models import Fetch, Source
from monitor.store.standing import source_standings

ATTENTION = frozenset({Standing.FAILING, Standing.SUSPICIOUS, Standing.GONE})


@dataclass(frozen=True)
class FailingSource:
    """A notice whose recent fetches all failed: how many in a row, since when, and the last error."""

    source_id: str
    name: str
    url: str | None
    state: str
    consecutive: int
    since: datetime
    last_error: str | None


def failing_sources(session: Session, source_ids: list[str], threshold: int, now: datetime,
                    stale_after: timedelta) -> list[FailingSource]:
    """Sources failing, suspicious or gone whose latest `threshold` (or more) fetches all missed, most first."""
    out: list[FailingSource] = []
    standings = source_standings(session, now, stale_after, source_ids)
    for source_id in source_ids:
        standing = standings[source_id]
        if standing.standing not in ATTENTION:
            continue
        recent = session.exec(select(Fetch).where(Fetch.source_id == source_id)
                              .order_by(Fetch.id.desc()).limit(max(threshold, 50))).all()
        streak = []
        for fetch in recent:
            if fetch.outcome in SUCCESS_OUTCOMES:
                break
            streak.append(fetch)
        if len(streak) < threshold:
            continue
        source = session.get(Source, source_id)
        latest = streak[0]
        out.append(FailingSource(
            source_id=source_id, name=source.name if source else source_id,
            url=(source.url or source.discovered_url or source.homepage) if source else latest.url,
            state=standing.standing.value,
            consecutive=len(streak), since=streak[-1].fetched_at, last_error=latest.error))
    out.sort(key=lambda f: (-f.consecutive, f.source_id))
    return out
