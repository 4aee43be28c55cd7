"""The one clock of noticewatch: every stored time is aware UTC, and every surface reads it from here.

Databases hand times back naive (SQLite, `timestamp without time zone`): those are UTC by our rule.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive value (as a database hands it back) is taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """UTC time as `2026-03-01T06:00:00Z`, the form of every JSON document and log line."""
    if value is None:
        return None
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
