"""SQLModel tables of the history: sources, fetches, raw blobs, versions and changes.

Raw data (fetch, blob) and derived data (version, change) are kept apart so `reextract` can
rebuild the derived tables from the archive without touching what was fetched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from monitor.core import utcnow


class Source(SQLModel, table=True):
    """A watched notice, mirrored from the configuration on every run."""

    id: str = Field(primary_key=True, max_length=80)
    name: str
    url: str | None = None
    homepage: str | None = None
    language: str | None = None
    discovered_url: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Blob(SQLModel, table=True):
    """A raw body in the archive, by its sha256 (stored once however often it is fetched)."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    stored_size: int
    created_at: datetime = Field(default_factory=utcnow)


class Fetch(SQLModel, table=True):
    """One attempt to fetch a source; `outcome` says what came of it."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True)
    cycle_id: str | None = Field(default=None, index=True)
    url: str
    final_url: str | None = None
    status: int | None = None
    outcome: str = "ok"  # ok | unchanged | not_modified | changed | first | failed | suspicious
    error: str | None = Field(default=None, sa_column=Column(Text))
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers_json: str | None = Field(default=None, sa_column=Column(Text))
    blob_sha256: str | None = Field(default=None, foreign_key="blob.sha256")
    # What the body's Document is made from (monitor.extract.markup_sha256): a later body with the same
    # markup hash is recorded unchanged without being extracted.
    markup_sha256: str | None = Field(default=None, max_length=64)
    size: int | None = None
    fetched_at: datetime = Field(default_factory=utcnow, index=True)


class Version(SQLModel, table=True):
    """A distinct extracted text of a source; numbered 1, 2, ... per source without gaps."""

    __table_args__ = (UniqueConstraint("source_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True)
    number: int
    fetch_id: int | None = Field(default=None, foreign_key="fetch.id")
    blob_sha256: str | None = Field(default=None, foreign_key="blob.sha256")
    created_at: datetime = Field(default_factory=utcnow)
    text_sha256: str = Field(max_length=64)
    chars: int = 0
    block_count: int = 0
    document_json: str = Field(sa_column=Column(Text, nullable=False))
    markdown: str = Field(sa_column=Column(Text, nullable=False))
    # The notice's own date statement (NoticeDate.to_dict); JSON `null` = looked, none found; NULL = not looked.
    notice_date_json: str | None = Field(default=None, sa_column=Column(Text))
    # The extraction rules that made `document_json` (monitor.extract.rules_version); NULL = before rules had
    # versions. A previous version made by other rules is re-derived from its blob before comparing.
    rules: str | None = Field(default=None, max_length=40)


class Change(SQLModel, table=True):
    """What differs between two consecutive versions of a source."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True)
    old_version_id: int = Field(foreign_key="version.id")
    new_version_id: int = Field(foreign_key="version.id")
    detected_at: datetime = Field(default_factory=utcnow, index=True)
    added: int = 0
    removed: int = 0
    modified: int = 0
    significance: str = "material"
    cosmetic_only: bool = False
    diff_json: str = Field(sa_column=Column(Text, nullable=False))
    flags_json: str | None = Field(default=None, sa_column=Column(Text))  # the diff's date flags
    counts_json: str | None = Field(default=None, sa_column=Column(Text))  # clause changes per kind
    # How the change was established: {"confirmed": bool, "volatile_masked": int, "persisted": {...} | null}
    context_json: str | None = Field(default=None, sa_column=Column(Text))


# Covering indexes of the read side (the web overview's queries); part of the schema and its migrations.
READ_INDEXES = (
    Index("ix_change_overview", Change.source_id, Change.detected_at, Change.id, Change.significance),
    Index("ix_version_overview", Version.source_id, Version.number, Version.created_at),
    Index("ix_fetch_overview", Fetch.source_id, Fetch.outcome, Fetch.fetched_at),
)
