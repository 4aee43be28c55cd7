"""Turn one fetch into history: fetch row, raw blob row, and a new version and change if the text moved.

The raw body is already in the archive when `record_fetch` runs (the archive pipeline stage comes
first), so everything written here is derived from a stored blob and can be rebuilt from it.
Each fetch is recorded in one transaction: a crash leaves either all of its rows or none.
The rows of the common paths (the fetch, its blob, the current version read, the new version and
change) are plain SQLAlchemy Core statements: the crawl's one writer thread commits a fetch in a few
statements and no ORM flush; the rare paths (a held-back text, alternation, re-derivation) use the ORM
in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable
from sqlmodel import Session, select

from monitor.archive import Archive
from monitor.config import LoadedConfig, SourceConfig
from monitor.core import Document, FetchOutcome, FetchResult, utcnow
from monitor.diff import DiffBudget, DiffBudgetExceeded, Site, learn, mask_document, masked_sha256, merge
from monitor.extract import extract_document, extraction_failure, rules_version, text_sha256
from monitor.store.db import session_scope
from monitor.store.derive import DerivedColumns, DiffJob, derive_columns, version_fields
from monitor.store.models import Blob, Change, Fetch, Source, Version
from monitor.store.persistence import alternation, hold_suspicious
from monitor.store.standing import update_status
from monitor.store.upsert import built_once, dialect_insert
from monitor.store.volatile import VolatileSite, remember_sites, site_rows, sites_of

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


# The statements of every fetch, built once (building one costs more than running it on SQLite).
_VERSION = Version.__table__
_SOURCE_ID = bindparam("source_id")
_CURRENT = (Version.id, Version.number, Version.rules, Version.text_sha256)
_CURRENT_LIGHT, _CURRENT_FULL = (
    core_select(*columns).where(Version.source_id == _SOURCE_ID).order_by(Version.number.desc()).limit(1)
    for columns in (_CURRENT, (*_CURRENT, Version.fetch_id, Version.blob_sha256, Version.document_json,
                               Version.notice_date_json)))
_LANGUAGE = core_select(Source.language).where(Source.id == _SOURCE_ID)
_DISCOVERED = core_select(Source.id, Source.discovered_url).where(Source.id == _SOURCE_ID)
_LOCK_SOURCE = core_select(Source.id).where(Source.id == _SOURCE_ID).with_for_update()
_INSERT_FETCH = insert(Fetch.__table__)


def current_version(conn: Connection, source_id: str, *, texts: bool = False) -> Row | None:
    """The source's current version as a plain row (id, number, rules, text hash; with `texts` also its
    fetch, blob, stored document and date): what recording compares a fetch with, read without the ORM."""
    return conn.execute(_CURRENT_FULL if texts else _CURRENT_LIGHT, {"source_id": source_id}).first()


def _fetch_values(item: FetchResult, cycle_id: str | None) -> dict:
    """The fetch row's columns (inserted once its outcome is known)."""
    headers = {k.lower(): v for k, v in item.headers.items() if k.lower() in KEPT_HEADERS}
    return {"source_id": item.source_id, "cycle_id": cycle_id, "url": item.url, "final_url": item.final_url,
            "status": item.status, "error": item.error, "content_type": headers.get("content-type"),
            "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
            "headers_json": json.dumps(headers, sort_keys=True) if headers else None,
            "blob_sha256": item.archived.sha256 if item.archived else None, "markup_sha256": item.markup_sha256,
            "size": len(item.body) if item.body is not None else None, "fetched_at": item.fetched_at,
            "outcome": "ok"}  # the column default; every path sets the outcome


def _insert_fetch(session: Session, values: dict) -> int:
    return session.connection().execute(_INSERT_FETCH, values).inserted_primary_key[0]


def _ensure_blob(session: Session, item: FetchResult) -> None:
    """The blob row of an archived body, once: another fetch (or worker) with the same body may have
    inserted it first, and the file is identical."""
    archived = item.archived
    if archived is None:
        return
    conn = session.connection()
    conn.execute(built_once(conn, "blob once", _insert_blob),
                 {"sha256": archived.sha256, "size": archived.size, "stored_size": archived.stored_size})


def _insert_blob(bind: Connection) -> Executable:
    return dialect_insert(bind, Blob.__table__).on_conflict_do_nothing(index_elements=["sha256"])


def derive_document(body: bytes, content_type: str | None, source: SourceConfig, url: str) -> Document:
    """Extract the notice from a raw body with the source's overrides (a fetch's, or an archived one)."""
    return extract_document(body, content_type, select=source.select, remove=source.remove,
                            language=source.language, url=url)


@dataclass(frozen=True)
class FetchRef:
    """The recorded fetch a version is made from: its row id and when it was fetched."""

    id: int | None
    fetched_at: datetime | None


def new_version(session: Session, source_id: str, document: Document, fetch: Fetch | FetchRef | None,
                blob_sha256: str | None, previous: Version | Row | None, rules: str | None = None, *,
                sites: Sequence[Site] = (), context: dict | None = None, budget: DiffBudget | None = None,
                derived: DerivedColumns | None = None) -> tuple[Version, Change | None]:
    """Add the next version of a source and, if there was one before, the change between them.

    `rules` is the extraction rules version that made `document`; `sites` are the source's volatile
    sites (masked in the diff); `context` says how the change was established (confirmed by a second
    fetch, held-back text that persisted). `derived` are the columns a DiffJob already computed (in a
    worker process); without them they are derived here, and past `budget` that raises DiffBudgetExceeded.
    The rows are inserted with Core statements (no ORM flush of large text columns); the objects returned
    carry their ids but are not in the session."""
    fetched_at = fetch.fetched_at if fetch else None
    if derived is None:
        derived = derive_columns(diff_job(session, source_id, previous, document, rules, sites, fetched_at, budget))
        if derived.error:
            raise DiffBudgetExceeded(derived.error)
    session.flush()  # what the caller added through the ORM (its fetch row) exists before rows refer to it
    conn = session.connection()
    values = {"source_id": source_id, "number": (previous.number + 1) if previous else 1,
              "fetch_id": fetch.id if fetch else None, "blob_sha256": blob_sha256,
              "created_at": fetched_at or utcnow(), **derived.version}
    version = Version(id=conn.execute(insert(_VERSION), values).inserted_primary_key[0], **values)
    if previous is None or derived.change is None:
        return version, None
    context = {"confirmed": False, "volatile_masked": mask_document(document, sites)[1] if sites else 0,
               "persisted": None, **(context or {})}
    change_values = {"source_id": source_id, "old_version_id": previous.id, "new_version_id": version.id,
                     "detected_at": version.created_at, **derived.change,
                     "context_json": json.dumps(context, ensure_ascii=False)}
    change = Change(id=conn.execute(insert(Change.__table__), change_values).inserted_primary_key[0],
                    **change_values)
    return version, change


@dataclass(frozen=True)
class PlannedDiff:
    """A DiffJob and the columns a worker process derived from it, handed to `record_fetch`, which uses
    them when the job is still what it would compute itself (else it derives them again)."""

    job: DiffJob
    columns: DerivedColumns


def diff_job(session: Session, source_id: str, previous: Version | Row | None, document: Document,
             rules: str | None, sites: Sequence[Site], fetched_at: datetime | None,
             budget: DiffBudget | None, digest: str | None = None) -> DiffJob:
    """What recording `document` as the source's next version needs computed (`digest`: its text hash,
    if the crawl computed it)."""
    language = session.connection().execute(_LANGUAGE, {"source_id": source_id}).scalar()
    return DiffJob(source_id=source_id, previous_id=previous.id if previous else None,
                   previous_document_json=previous.document_json if previous else None,
                   previous_notice_date_json=previous.notice_date_json if previous else None,
                   document=document, language=language or document.language,
                   rules=rules, fetched_at=fetched_at, sites=tuple(sites), budget=budget, text_sha256=digest)


def plan_diff(engine: Engine, item: FetchResult, source: SourceConfig,
              budget: DiffBudget | None = None) -> DiffJob | None:
    """The DiffJob recording this fetch will need, read without writing anything; None when the fetch
    will not make a new version (or recording must re-derive the current one first: it then diffs itself)."""
    if item.document is None or item.suspicious or item.extract_error or item.same_body:
        return None
    rules = rules_version(source.select, source.remove)
    with Session(engine) as session:
        previous = current_version(session.connection(), item.source_id, texts=True)
        if previous is not None and previous.rules != rules:
            return None
        sites, _, _ = _volatile_sites(session, item, item.document)
        if previous is not None and _same_text(previous, item.document, sites, item.text_sha256):
            return None
        return diff_job(session, item.source_id, previous, item.document, rules, sites, item.fetched_at, budget,
                        item.text_sha256)


def _volatile_sites(session: Session, item: FetchResult,
                    document: Document) -> tuple[list[Site], list[Site], list[VolatileSite]]:
    """The source's known volatile sites with what this fetch's confirmation taught, that lesson, and the
    sites' rows (read once: recording follows them with `remember_sites`)."""
    if item.confirm_document is None:
        learned = []
    elif item.learned_sites is not None and document is item.document:
        learned = list(item.learned_sites)  # learned where the page was extracted
    else:
        learned = learn(item.confirm_document, document)
    rows = site_rows(session, item.source_id)
    return merge(sites_of(rows), learned), learned, rows


def lock_source(session: Session, source_id: str) -> None:
    """Serialise writers of one source's versions (PostgreSQL row lock; SQLite serialises all writers, and
    ignores FOR UPDATE: no statement there)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(_LOCK_SOURCE, {"source_id": source_id})


def record_fetch(engine: Engine, item: FetchResult, source: SourceConfig, *, cycle_id: str | None = None,
                 min_text_chars: int = 200, claim: Callable[[Session], None] | None = None, gone_after: int = 3,
                 archive: Archive | None = None, diff_budget: DiffBudget | None = None,
                 planned: PlannedDiff | None = None) -> RecordResult:
    """Record one fetch; derive a new version and change when the extracted text differs.

    `claim` runs first in the same transaction and may raise AlreadyRecorded to keep nothing.
    With the `archive`, a previous version made by other extraction rules is re-derived from its raw
    body before the comparison, so an upgrade of the rules never reports an extractor-only change.
    A suspicious fetch (an error page, a wall, a body that lost most of its text: see
    monitor/fetchcheck.py) is archived and recorded with its reason, never turned into a version.
    A change whose diff exceeds `diff_budget` ([crawl] diff_timeout, diff_max_chars) is a failed
    fetch too: the last good version stays and the next cycle tries again. `planned` is that diff
    already made elsewhere (`plan_diff`, run in a worker process), used if it still applies.
    An unchanged fetch of the last good body costs three statements: the current version's rules, the
    fetch row, the standing row.
    """
    with session_scope(engine) as session:
        if claim is not None:
            claim(session)
        found = _note_discovery(session, item)
        result = _record(session, _fetch_values(item, cycle_id), item, source, min_text_chars, archive,
                         diff_budget, planned)
        update_status(session, source_id=item.source_id, outcome=result.outcome, status=item.status,
                      error=result.error, moved_from=item.moved_from if item.moved_to else None,
                      moved_to=item.moved_to, cycle_id=cycle_id, gone_after=gone_after, when=item.fetched_at,
                      found=found)
        return result


def _note_discovery(session: Session, item: FetchResult) -> bool:
    """Keep the notice address this fetch found from the home page; True when it is new (found anew)."""
    if not item.discovered_url:
        return False
    conn = session.connection()
    known = conn.execute(_DISCOVERED, {"source_id": item.source_id}).first()
    if known is None or known.discovered_url == item.discovered_url:
        return False
    conn.execute(update(Source).where(Source.id == item.source_id).values(discovered_url=item.discovered_url))
    return True


def _same_text(previous: Version | Row, document: Document, sites: Sequence[Site] = (),
               digest: str | None = None) -> bool:
    """Equal by hash, by the stored document (a version hashed before the comparison rules changed),
    or once the source's volatile sites are masked in both. `digest` is the document's text hash if known
    (the spider's worker computed it); the stored document is read only when the hashes differ."""
    digest = digest or text_sha256(document)
    if previous.text_sha256 == digest:
        return True
    stored = Document.from_json(previous.document_json)
    if text_sha256(stored) == digest:
        return True
    return bool(sites) and masked_sha256(stored, sites) == masked_sha256(document, sites)


def rederive(session: Session, version: Version, source: SourceConfig, rules: str, archive: Archive) -> bool:
    """Re-make a version's document from its raw body with the current rules, in place (same row, same
    number); False when its body or fetch is not at hand or no longer extracts (it is compared as stored)."""
    fetch = session.get(Fetch, version.fetch_id) if version.fetch_id is not None else None
    if version.blob_sha256 is None or fetch is None:
        return False
    try:
        document = derive_document(archive.get(version.blob_sha256), fetch.content_type, source,
                                   fetch.final_url or fetch.url)
    except Exception:  # noqa: BLE001  (a missing blob or a parser crash: keep the stored document)
        return False
    for key, value in version_fields(document, source.language or document.language, rules).items():
        setattr(version, key, value)
    session.add(version)
    return True


def _record(session: Session, fetch: dict, item: FetchResult, source: SourceConfig, min_text_chars: int,
            archive: Archive | None = None, diff_budget: DiffBudget | None = None,
            planned: PlannedDiff | None = None) -> RecordResult:
    """Decide the fetch's outcome, insert its row (`fetch`: its columns) and whatever it derives."""

    def recorded(outcome: FetchOutcome, error: str | None = None, version_number: int | None = None) -> RecordResult:
        fetch["outcome"] = outcome
        if error is not None:
            fetch["error"] = error
        _insert_fetch(session, fetch)
        return RecordResult(item.source_id, outcome, error, version_number=version_number)

    if item.not_modified:
        return recorded(FetchOutcome.NOT_MODIFIED)
    if item.body is None or item.error:
        return recorded(FetchOutcome.FAILED, item.error or "no body")
    if not item.same_body:  # the last good fetch's blob: its row exists
        _ensure_blob(session, item)
    persisted = None
    if item.suspicious:
        persisted = hold_suspicious(session, item.source_id, item.document, item.suspicious, item.held_fetches,
                                    fetch["cycle_id"] or fetch["fetched_at"].isoformat())
        if persisted is None:
            return recorded(FetchOutcome.SUSPICIOUS, item.suspicious)
        # the held-back text persisted: it is the notice now (flagged on the change)
    if item.extract_error:
        return recorded(FetchOutcome.FAILED, item.extract_error)
    rules = rules_version(source.select, source.remove)
    conn = session.connection()
    if item.same_body or item.same_markup:  # the last good fetch's body or markup under the same rules:
        previous = current_version(conn, item.source_id)  # unchanged, nothing to parse
        if previous is not None and previous.rules == rules:
            return recorded(FetchOutcome.UNCHANGED, version_number=previous.number)
    try:
        document = item.document if item.document is not None else \
            derive_document(item.body, item.content_type, source, item.final_url or item.url)
    except Exception as exc:  # a parser crash on hostile input is a failed fetch, not a crashed cycle
        return recorded(FetchOutcome.FAILED, extraction_failure(exc, item.final_url or item.url))
    if document.char_count() < min_text_chars and persisted is None:
        return recorded(FetchOutcome.FAILED, f"empty or tiny body: {document.char_count()} characters of text")
    lock_source(session, item.source_id)
    previous: Version | Row | None = current_version(conn, item.source_id)
    if previous is not None and previous.rules != rules and archive is not None:
        previous = session.get(Version, previous.id)
        rederive(session, previous, source, rules, archive)
    sites, learned, site_rows_ = _volatile_sites(session, item, document)
    remember_sites(session, item.source_id, learned, document, fetch["fetched_at"], rows=site_rows_)
    known = item.text_sha256 if document is item.document else None  # hashed where it was extracted
    digest = None
    if previous is not None:
        digest = known or text_sha256(document)
        if previous.text_sha256 == digest:  # the stored texts are not needed
            return recorded(FetchOutcome.UNCHANGED, version_number=previous.number)
        if isinstance(previous, Row):
            previous = current_version(conn, item.source_id, texts=True)
    if previous is not None and (_same_text(previous, document, sites, digest)
                                 or alternation(session, item.source_id, document, sites, fetch["fetched_at"])):
        return recorded(FetchOutcome.UNCHANGED, version_number=previous.number)
    context = {"confirmed": item.confirm_document is not None or persisted is not None, "persisted": persisted}
    job = diff_job(session, item.source_id, previous, document, rules, sites, fetch["fetched_at"], diff_budget, known)
    derived = planned.columns if planned is not None and planned.job == job else derive_columns(job)
    if derived.error:
        return recorded(FetchOutcome.FAILED, derived.error)
    outcome = FetchOutcome.CHANGED if previous else FetchOutcome.FIRST
    fetch["outcome"] = outcome
    fetch_id = _insert_fetch(session, fetch)
    version, change = new_version(session, item.source_id, document, FetchRef(fetch_id, fetch["fetched_at"]),
                                  fetch["blob_sha256"], previous, rules, sites=sites, context=context,
                                  derived=derived)
    return RecordResult(item.source_id, outcome, version_number=version.number,
                        change_id=change.id if change else None)
