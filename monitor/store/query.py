"""Read-side queries over the history, shared by the CLI, the digest and the web app.

`change_record` defines the JSON shape of a change (schema `noticewatch.changes/2`, documented in
the README and docs/changes.schema.json); every surface that shows changes goes through it so they
agree, and `versions_record` gives the same shape for any two versions compared on the fly.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from monitor.core import SIGNIFICANCE_ORDER, Document, iso_utc
from monitor.diff import CHANGE_KINDS, FLAG_NAMES
from monitor.store.derive import change_fields
from monitor.store.models import Change, Source, Version

CHANGES_SCHEMA = "noticewatch.changes/2"




def _record(source_id: str, source: Source | None, old: Version, new: Version, diff: dict, *,
            change_id: int | None, detected_at: datetime | None, significance: str | None,
            cosmetic_only: bool, counts: dict, flags: dict) -> dict:
    return {
        "id": change_id,
        "source": source_id,
        "source_name": source.name if source else None,
        "url": (source.url or source.discovered_url or source.homepage) if source else None,
        "detected_at": iso_utc(detected_at),
        "old_version": old.number,
        "new_version": new.number,
        "significance": significance,
        "cosmetic_only": cosmetic_only,
        "counts": {kind: int(counts.get(kind, 0)) for kind in CHANGE_KINDS},
        "old_date": diff.get("old_date"),
        "new_date": diff.get("new_date"),
        "flags": {name: flags.get(name, False) for name in FLAG_NAMES},
        "clauses": diff.get("clauses", []),
    }


def change_record(change: Change, source: Source | None, old: Version, new: Version) -> dict:
    """One stored change as a JSON-ready dict (schema `noticewatch.changes/2`, see the README)."""
    diff = json.loads(change.diff_json)
    counts = json.loads(change.counts_json) if change.counts_json else diff.get("counts") or {
        "added": change.added, "removed": change.removed, "modified": change.modified}
    flags = json.loads(change.flags_json) if change.flags_json else diff.get("flags") or {}
    return _record(change.source_id, source, old, new, diff, change_id=change.id, detected_at=change.detected_at,
                   significance=change.significance, cosmetic_only=change.cosmetic_only, counts=counts,
                   flags=flags)


def versions_record(session: Session, source_id: str, old: Version, new: Version) -> dict:
    """Any two versions of a source compared now, in the shape of `change_record` (`id` is null)."""
    source = session.get(Source, source_id)
    fields = change_fields(old, new, Document.from_json(new.document_json),
                           language=source.language if source else None, fetched_at=new.created_at)
    diff = json.loads(fields["diff_json"])
    return _record(source_id, source, old, new, diff, change_id=None,
                   detected_at=new.created_at, significance=diff.get("significance"),
                   cosmetic_only=fields["cosmetic_only"], counts=json.loads(fields["counts_json"]),
                   flags=json.loads(fields["flags_json"]))


def list_changes(session: Session, *, source_id: str | None = None, since: datetime | None = None,
                 include_cosmetic: bool = True, min_significance: str | None = None,
                 limit: int | None = None) -> list[dict]:
    """Changes, oldest first, optionally for one source, after a time, at or above a significance."""
    query = select(Change).order_by(Change.detected_at, Change.id)
    if source_id:
        query = query.where(Change.source_id == source_id)
    if since:
        query = query.where(Change.detected_at >= since)
    if not include_cosmetic:
        query = query.where(Change.cosmetic_only == False)  # noqa: E712  (SQL expression)
    if min_significance:
        levels = SIGNIFICANCE_ORDER[SIGNIFICANCE_ORDER.index(min_significance):]
        query = query.where(Change.significance.in_(levels))
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

