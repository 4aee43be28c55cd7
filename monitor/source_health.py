"""Which watched notices are failing, so a digest shows silent breakage next to the changes.

A notice is failing when its last `threshold` fetches all failed (unreachable, error status, tiny
body ...). Any fetch outcome that is not a success counts, so richer states (gone, moved,
suspicious) are reported under their own name as soon as the crawler records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from monitor.models import Fetch, Source

GOOD_OUTCOMES = frozenset({"ok", "unchanged", "not_modified", "changed", "first"})


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


def failing_sources(session: Session, source_ids: list[str], threshold: int) -> list[FailingSource]:
    """Sources whose latest `threshold` (or more) fetches all failed, most failures first."""
    out: list[FailingSource] = []
    for source_id in source_ids:
        recent = session.exec(select(Fetch).where(Fetch.source_id == source_id)
                              .order_by(Fetch.id.desc()).limit(max(threshold, 50))).all()
        streak = []
        for fetch in recent:
            if fetch.outcome in GOOD_OUTCOMES:
                break
            streak.append(fetch)
        if len(streak) < threshold:
            continue
        source = session.get(Source, source_id)
        latest = streak[0]
        out.append(FailingSource(
            source_id=source_id, name=source.name if source else source_id,
            url=(source.url or source.discovered_url or source.homepage) if source else latest.url,
            state=latest.outcome,
            consecutive=len(streak), since=streak[-1].fetched_at, last_error=latest.error))
    out.sort(key=lambda f: (-f.consecutive, f.source_id))
    return out
