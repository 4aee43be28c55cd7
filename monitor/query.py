"""Read-side queries over the history, shared by the CLI, the digest and the web app.

`change_record` defines the JSON shape of a change (schema `noticewatch.changes/1`, documented in
the README); every surface that shows changes goes through it so they agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from monitor.models import Change, Fetch, Source, Version

CHANGES_SCHEMA = "noticewatch.changes/1"


def iso_utc(value: datetime | None) -> str | None:
    """UTC time as `2026-03-01T06:00:00Z` (naive values from SQLite are UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def change_record(change: Change, source: Source | None, old: Version, new: Version) -> dict:
    """One change as a JSON-ready dict."""
    diff = json.loads(change.diff_json)
    return {
        "id": change.id,
        "source": change.source_id,
        "source_name": source.name if source else None,
        "url": (source.url or source.discovered_url or source.homepage) if source else None,
        "detected_at": iso_utc(change.detected_at),
        "old_version": old.number,
        "new_version": new.number,
        "counts": {"added": change.added, "removed": change.removed, "modified": change.modified},
        "significance": change.significance,
        "cosmetic_only": change.cosmetic_only,
        "clauses": diff.get("clauses", []),
        **{k: v for k, v in diff.items() if k != "clauses"},
    }


def list_changes(session: Session, *, source_id: str | None = None, since: datetime | None = None,
                 include_cosmetic: bool = True, limit: int | None = None) -> list[dict]:
    """Changes, oldest first, optionally for one source and after a time."""
    query = select(Change).order_by(Change.detected_at, Change.id)
    if source_id:
        query = query.where(Change.source_id == source_id)
    if since:
        query = query.where(Change.detected_at >= since)
    if not include_cosmetic:
        query = query.where(Change.cosmetic_only == False)  # noqa: E712  (SQL expression)
    if limit:
        query = query.limit(limit)
    records = []
    for change in session.exec(query).all():
        old = session.get(Version, change.old_version_id)
        new = session.get(Version, change.new_version_id)
        records.append(change_record(change, session.get(Source, change.source_id), old, new))
    return records


def list_versions(session: Session, source_id: str) -> list[Version]:
    return list(session.exec(select(Version).where(Version.source_id == source_id).order_by(Version.number)))


def find_version(session: Session, source_id: str, *, number: int | None = None,
                 at: datetime | None = None) -> Version | None:
    """A version by number, the one standing at a time, or the latest."""
    query = select(Version).where(Version.source_id == source_id)
    if number is not None:
        query = query.where(Version.number == number)
    elif at is not None:
        query = query.where(Version.created_at <= at)
    return session.exec(query.order_by(Version.number.desc()).limit(1)).first()


def source_problems(session: Session) -> list[dict]:
    """Sources that are gone, moved, suspicious or failing (see monitor/source_status.py)."""
    from monitor.source_status import source_problems as problems

    return problems(session)


def last_fetches(session: Session, source_id: str, limit: int = 20) -> list[Fetch]:
    return list(session.exec(select(Fetch).where(Fetch.source_id == source_id)
                             .order_by(Fetch.id.desc()).limit(limit)))
