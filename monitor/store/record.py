"""Turn one fetch into history: fetch row, raw blob row, and a new version and change if the text moved.

The raw body is already in the archive when `record_fetch` runs (the archive pipeline stage comes
first), so everything written here is derived from a stored blob and can be rebuilt from it.
Each fetch is recorded in one transaction: a crash leaves either all of its rows or none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from monitor.config import LoadedConfig, SourceConfig
from monitor.core import ACCEPTED_OUTCOMES, Document, FetchOutcome, FetchResult
from monitor.diff import DiffBudget, DiffBudgetExceeded
from monitor.extract import extract_document, extraction_failure, text_sha256
from monitor.store.db import session_scope
from monitor.store.derive import change_fields, version_fields
from monitor.store.models import Blob, Change, Fetch, Source, Version
from monitor.store.standing import update_status

KEPT_HEADERS = ("content-type", "content-length", "etag", "last-modified", "date", "server", "location",
                "cache-control", "content-language")


class AlreadyRecorded(Exception):
    """This cycle's fetch of the source was recorded already (by another worker); keep nothing of this one."""


@dataclass
class RecordResult:
    """What a fetch came to."""

    source_id: str
    outcome: FetchOutcome
    error: str | None = None
    version_number: int | None = None
    change_id: int | None = None


def sync_sources(engine: Engine, loaded: LoadedConfig) -> None:
    """Mirror the configured sources into the database (sources no longer configured are kept).

    Many workers may start at once: existing rows are read in one query, and a row inserted by
    another worker meanwhile makes this worker read again rather than fail.
    """
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                existing = {row.id: row for row in session.exec(select(Source))}
                for src in loaded.sources:
                    row = existing.get(src.id) or Source(id=src.id, name=src.name)
                    fields = {"name": src.name, "url": src.url, "homepage": src.homepage, "language": src.language}
                    if src.id not in existing or any(getattr(row, k) != v for k, v in fields.items()):
                        for key, value in fields.items():
                            setattr(row, key, value)
                        session.add(row)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def latest_version(session: Session, source_id: str) -> Version | None:
    return session.exec(select(Version).where(Version.source_id == source_id)
                        .order_by(Version.number.desc()).limit(1)).first()


def conditional_headers(engine: Engine, source_id: str) -> dict[str, str]:
    """ETag / Last-Modified validators of the last good fetch, if its text is the current version."""
    with Session(engine) as session:
        if latest_version(session, source_id) is None:
            return {}
        fetch = session.exec(select(Fetch).where(Fetch.source_id == source_id,
                                                 Fetch.outcome.in_(ACCEPTED_OUTCOMES))
                             .order_by(Fetch.id.desc()).limit(1)).first()
    headers: dict[str, str] = {}
    if fetch is not None and fetch.etag:
        headers["If-None-Match"] = fetch.etag
    if fetch is not None and fetch.last_modified:
        headers["If-Modified-Since"] = fetch.last_modified
    return headers


def _fetch_row(item: FetchResult, cycle_id: str | None) -> Fetch:
    headers = {k.lower(): v for k, v in item.headers.items() if k.lower() in KEPT_HEADERS}
    return Fetch(source_id=item.source_id, cycle_id=cycle_id, url=item.url, final_url=item.final_url,
                 status=item.status, error=item.error, content_type=headers.get("content-type"),
                 etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                 headers_json=json.dumps(headers, sort_keys=True) if headers else None,
                 blob_sha256=item.archived.sha256 if item.archived else None,
                 size=len(item.body) if item.body is not None else None,
                 fetched_at=item.fetched_at)


def _ensure_blob(session: Session, item: FetchResult) -> None:
    archived = item.archived
    if archived is None or session.get(Blob, archived.sha256) is not None:
        return
    try:
        with session.begin_nested():
            session.add(Blob(sha256=archived.sha256, size=archived.size, stored_size=archived.stored_size))
    except IntegrityError:
        pass  # another worker recorded the same body first; the file is identical


def derive_document(body: bytes, content_type: str | None, source: SourceConfig, url: str) -> Document:
    """Extract the notice from a raw body with the source's overrides (a fetch's, or an archived one)."""
    return extract_document(body, content_type, select=source.select, remove=source.remove,
                            language=source.language, url=url)


def new_version(session: Session, source_id: str, document: Document, fetch: Fetch | None,
                blob_sha256: str | None, previous: Version | None,
                budget: DiffBudget | None = None) -> tuple[Version, Change | None]:
    """Add the next version of a source and, if there was one before, the change between them."""
    source = session.get(Source, source_id)
    language = (source.language if source else None) or document.language
    version = Version(source_id=source_id, number=(previous.number + 1) if previous else 1,
                      fetch_id=fetch.id if fetch else None, blob_sha256=blob_sha256,
                      created_at=fetch.fetched_at if fetch else None, **version_fields(document, language))
    if version.created_at is None:
        del version.created_at
    session.add(version)
    session.flush()
    if previous is None:
        return version, None
    change = Change(source_id=source_id, old_version_id=previous.id, new_version_id=version.id,
                    detected_at=version.created_at,
                    **change_fields(previous, version, document, language=language, fetched_at=version.created_at,
                                  budget=budget))
    session.add(change)
    session.flush()
    return version, change


def lock_source(session: Session, source_id: str) -> None:
    """Serialise writers of one source's versions (PostgreSQL row lock; SQLite serialises all writers)."""
    session.exec(select(Source.id).where(Source.id == source_id).with_for_update())


def record_fetch(engine: Engine, item: FetchResult, source: SourceConfig, *, cycle_id: str | None = None,
                 min_text_chars: int = 200,
                 claim: Callable[[Session], None] | None = None, gone_after: int = 3,
                 diff_budget: DiffBudget | None = None) -> RecordResult:
    """Record one fetch; derive a new version and change when the extracted text differs.

    `claim` runs first in the same transaction and may raise AlreadyRecorded to keep nothing.
    A suspicious fetch (an error page, a wall, a body that lost most of its text: see
    monitor/fetchcheck.py) is archived and recorded with its reason, never turned into a version.
    A change whose diff exceeds `diff_budget` ([crawl] diff_timeout, diff_max_chars) is a failed
    fetch too: the last good version stays and the next cycle tries again.
    """
    with session_scope(engine) as session:
        if claim is not None:
            claim(session)
        fetch = _fetch_row(item, cycle_id)
        source_row = session.get(Source, item.source_id)
        found = bool(item.discovered_url) and source_row is not None \
            and source_row.discovered_url != item.discovered_url
        result = _record(session, fetch, item, source, min_text_chars, diff_budget)
        status = update_status(session, source_id=item.source_id, outcome=result.outcome, status=item.status,
                               error=result.error, moved_from=item.moved_from if item.moved_to else None,
                               moved_to=item.moved_to, cycle_id=cycle_id, gone_after=gone_after, when=fetch.fetched_at)
        if found:
            status.found_cycle = cycle_id
        return result


def _same_text(previous: Version, document: Document) -> bool:
    """Equal by hash, or by the stored document (a version hashed before the comparison rules changed)."""
    if previous.text_sha256 == text_sha256(document):
        return True
    return text_sha256(Document.from_json(previous.document_json)) == text_sha256(document)


def _record(session: Session, fetch: Fetch, item: FetchResult, source: SourceConfig,
            min_text_chars: int, diff_budget: DiffBudget | None = None) -> RecordResult:
    if item.discovered_url:
        src_row = session.get(Source, item.source_id)
        if src_row is not None:
            src_row.discovered_url = item.discovered_url
    if item.not_modified:
        fetch.outcome = FetchOutcome.NOT_MODIFIED
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.NOT_MODIFIED)
    if item.body is None or item.error:
        fetch.outcome = FetchOutcome.FAILED
        fetch.error = item.error or "no body"
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.FAILED, fetch.error)
    _ensure_blob(session, item)
    if item.suspicious:
        fetch.outcome, fetch.error = FetchOutcome.SUSPICIOUS, item.suspicious
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.SUSPICIOUS, fetch.error)
    try:
        document = item.document if item.document is not None else \
            derive_document(item.body, item.content_type, source, item.final_url or item.url)
    except Exception as exc:  # a parser crash on hostile input is a failed fetch, not a crashed cycle
        fetch.outcome, fetch.error = FetchOutcome.FAILED, extraction_failure(exc, item.final_url or item.url)
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.FAILED, fetch.error)
    if document.char_count() < min_text_chars:
        fetch.outcome = FetchOutcome.FAILED
        fetch.error = f"empty or tiny body: {document.char_count()} characters of text"
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.FAILED, fetch.error)
    lock_source(session, item.source_id)
    previous = latest_version(session, item.source_id)
    if previous is not None and _same_text(previous, document):
        fetch.outcome = FetchOutcome.UNCHANGED
        session.add(fetch)
        return RecordResult(item.source_id, FetchOutcome.UNCHANGED, version_number=previous.number)
    fetch.outcome = FetchOutcome.CHANGED if previous else FetchOutcome.FIRST
    session.add(fetch)
    session.flush()
    try:
        with session.begin_nested():
            version, change = new_version(session, item.source_id, document, fetch, fetch.blob_sha256, previous,
                                          diff_budget)
    except DiffBudgetExceeded as exc:
        fetch.outcome, fetch.error = FetchOutcome.FAILED, f"diff over budget: {exc}"
        return RecordResult(item.source_id, FetchOutcome.FAILED, fetch.error)
    return RecordResult(item.source_id, fetch.outcome, version_number=version.number,
                        change_id=change.id if change else None)
