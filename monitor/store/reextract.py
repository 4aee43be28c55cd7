"""Rebuild versions and changes from the raw archive with the current extractor and differ.

Versions and changes are derived data (design: raw first). After the extractor, a source's
`select`/`remove` settings or the differ improve, `reextract` replays every accepted fetch of a
source (outcome first/changed/unchanged, in fetch order) from its archived body, exactly as
`record_fetch` would: extract, reject text under `min_text_chars`, and start a new version when the
text differs from the previous version's. Blobs, fetch rows and the archive are only read.

A page that alternates between two texts is replayed by the same rule as recording (monitor/store/persistence.py):
once the versions read A, B, A and the page shows B again, no new version until a third text appears.

Identity rules, so rows that other tables refer to survive a rebuild:

- Version rows are matched old ↔ new by text hash in order (longest matching runs, as difflib
  aligns sequences). A matched row keeps its id; its number is its new position (so numbers stay
  the same wherever the history before it is unchanged), and its document, Markdown, date
  statement and fetch are refreshed. Unmatched old rows are deleted, unmatched new texts inserted.
- Change rows keep their id (digest outboxes refer to change ids, so a change already mailed is
  not mailed again) when their pair (old text hash, new text hash) still occurs, else when a new
  change happens at the same moment (its new version begins with the same fetch); they get the
  current differ's diff. Other old changes are deleted, other new ones inserted.

Each source is rebuilt in one transaction: a failure (a missing or corrupt blob, a database error)
leaves that source exactly as it was. `dry_run` does all the work and rolls back.

Where it runs: this process reads a source's fetch rows page by page (FETCH_BATCH, keyset pages in
fetch order) and writes its rows; every body's CPU work (the verified read of its snapshot,
extraction, text hashes) and each version's columns and change's diff run in forked worker
processes (pure computation), a page ahead of the replay. Each distinct body is derived once (the
outcomes of the last KNOWN_BODIES are remembered: one seen longer ago is derived again, the same) and
only versions' documents are kept, so memory stays flat however long a history is.
"""

from __future__ import annotations

import difflib
import json
import multiprocessing
import os
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Row, and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.archive import Archive, ArchiveError
from monitor.config import LoadedConfig, SourceConfig
from monitor.core import ACCEPTED_OUTCOMES, Document
from monitor.diff import Site, masked_sha256
from monitor.extract import extraction_failure, rules_version, text_sha256
from monitor.store.derive import change_fields, version_fields
from monitor.store.models import Change, Fetch, Source, Version
from monitor.store.persistence import starts_alternation
from monitor.store.record import derive_document
from monitor.store.standing import SourceStatus, status_row
from monitor.store.volatile import load_sites


@dataclass
class SourceReport:
    """What a rebuild changed for one source (or would change, on a dry run)."""

    source_id: str
    versions_before: list[str] = field(default_factory=list)  # text hashes, in number order
    versions_after: list[str] = field(default_factory=list)
    kept_versions: int = 0
    renumbered: list[tuple[int, int]] = field(default_factory=list)  # (old number, new number)
    refreshed_documents: int = 0  # kept versions whose stored document changed (same text)
    changes_kept: int = 0
    changes_rediffed: int = 0  # kept changes whose stored diff changed
    changes_added: int = 0
    changes_removed: int = 0
    skipped_fetches: dict[int, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def differs(self) -> bool:
        return bool(self.versions_before != self.versions_after or self.renumbered or self.refreshed_documents
                    or self.changes_rediffed or self.changes_added or self.changes_removed)

    def changed_numbers(self) -> list[int]:
        """Version numbers whose text hash differs from before (or that appeared or went)."""
        length = max(len(self.versions_before), len(self.versions_after))
        before = self.versions_before + [None] * (length - len(self.versions_before))
        after = self.versions_after + [None] * (length - len(self.versions_after))
        return [n for n, (a, b) in enumerate(zip(before, after, strict=True), start=1) if a != b]

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.source_id}: not rebuilt: {self.error}"]
        head = (f"{self.source_id}: versions {len(self.versions_before)} → {len(self.versions_after)}, "
                f"changes kept {self.changes_kept} (re-diffed {self.changes_rediffed}), "
                f"added {self.changes_added}, removed {self.changes_removed}")
        lines = [head if self.differs else f"{self.source_id}: unchanged ({len(self.versions_after)} versions)"]
        for number in self.changed_numbers():
            old = self.versions_before[number - 1][:12] if number <= len(self.versions_before) else "-"
            new = self.versions_after[number - 1][:12] if number <= len(self.versions_after) else "-"
            lines.append(f"  v{number}: text {old} → {new}")
        lines += [f"  version renumbered v{a} → v{b}" for a, b in self.renumbered]
        if self.refreshed_documents:
            lines.append(f"  {self.refreshed_documents} version(s) with the same text re-stored (structure or date)")
        lines += [f"  fetch {fid} skipped: {reason}" for fid, reason in sorted(self.skipped_fetches.items())]
        return lines

    def to_dict(self) -> dict:
        return {"source": self.source_id, "error": self.error, "differs": self.differs,
                "versions_before": len(self.versions_before), "versions_after": len(self.versions_after),
                "changed_version_numbers": self.changed_numbers(),
                "text_sha256_before": self.versions_before, "text_sha256_after": self.versions_after,
                "kept_versions": self.kept_versions, "renumbered": [list(p) for p in self.renumbered],
                "refreshed_documents": self.refreshed_documents, "changes_kept": self.changes_kept,
                "changes_rediffed": self.changes_rediffed, "changes_added": self.changes_added,
                "changes_removed": self.changes_removed,
                "skipped_fetches": {str(k): v for k, v in sorted(self.skipped_fetches.items())}}


FETCH_BATCH = 500  # fetch rows read per query: a source's history is streamed, never loaded whole
BODY_CHUNK = 16  # archived bodies sent to a worker process at once (few round trips, short waits)
KNOWN_BODIES = 4096  # outcomes remembered for bodies that recur (a body seen longer ago is derived again)


@dataclass(frozen=True)
class _Body:
    """One archived body to derive: what `record_fetch` extracted it with."""

    blob_sha256: str
    content_type: str | None
    url: str


@dataclass(frozen=True)
class _Outcome:
    """What the current extractor makes of one archived body: its text's hashes (plain and with the
    source's volatile sites masked), or the reason it is no version (`skip`), or the archive's error.
    The document travels back (as JSON: one string crosses a pipe far cheaper than a Document's
    objects) only when the body may start a version, its text differing from the body before it in
    the same chunk; otherwise the body is derived again in the rare case that it is needed."""

    text_hash: str | None = None
    masked_hash: str | None = None
    document_json: str | None = None
    skip: str | None = None
    missing: str | None = None


def _derive_body(archive: Archive, source: SourceConfig, min_text_chars: int, body: _Body) -> Document | str:
    """The same rule as record_fetch: hostile input fails the fetch, a tiny text is no version.
    Raises ArchiveError for a missing or corrupt blob."""
    raw = archive.get(body.blob_sha256)
    try:
        document = derive_document(raw, body.content_type, source, body.url)
    except Exception as exc:  # noqa: BLE001  (a parser crash is a skipped fetch, as when recording)
        return extraction_failure(exc, body.url)
    if document.char_count() < min_text_chars:
        return f"empty or tiny body: {document.char_count()} characters of text"
    return document


def _derive_chunk(snapshots: Path, source: SourceConfig, min_text_chars: int, sites: tuple[Site, ...],
                  bodies: list[_Body]) -> list[_Outcome]:
    """Derive a run of one source's bodies (in a worker process: pure computation, the archive only read)."""
    archive = Archive(snapshots)
    outcomes: list[_Outcome] = []
    previous: str | None = None
    for body in bodies:
        try:
            document = _derive_body(archive, source, min_text_chars, body)
        except ArchiveError as exc:
            outcomes.append(_Outcome(missing=str(exc)))
            previous = None
            continue
        if isinstance(document, str):
            outcomes.append(_Outcome(skip=document))
            previous = None
            continue
        text_hash = text_sha256(document)
        masked = masked_sha256(document, sites) if sites else text_hash
        outcomes.append(_Outcome(text_hash, masked, document.to_json() if text_hash != previous else None))
        previous = text_hash
    return outcomes


class _Inline(Executor):
    """An executor that runs each call at once, in this process (one worker configured)."""

    def submit(self, fn: Callable[..., object], /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@dataclass
class _Derived:
    """One version as the current extractor makes it, from the first fetch that yielded its text."""

    fetch: Row
    text_hash: str
    masked_hash: str
    columns: Future  # of its derived columns (version_fields), computed in a worker process

    @property
    def fields(self) -> dict:
        return self.columns.result()


@dataclass
class _Alternation:
    """Recording's alternation (monitor/store/persistence.py), replayed over a rebuilt history: once
    it starts, a switch between the two texts is no new version, until a third text appears."""

    hashes: tuple[str, str] | None = None
    versions: list[int] = field(default_factory=list)
    since: datetime | None = None

    def absorbs(self, digest: str, derived: list[_Derived], when: datetime) -> bool:
        """Is this text (masked `digest`) one of the two the page alternates between? It may start that."""
        if self.hashes is not None:
            if digest in self.hashes:
                return True
            self.hashes, self.versions, self.since = None, [], None
            return False
        recent = [d.masked_hash for d in derived[-1:-4:-1]]
        if starts_alternation(digest, recent):
            self.hashes, self.versions, self.since = (recent[0], recent[1]), [len(derived) - 1, len(derived)], when
            return True
        return False

    def store(self, row: SourceStatus) -> None:
        """Leave the source's standing row saying what the rebuilt history ends in."""
        if self.hashes is None:
            row.alternating_json, row.alternating_since = None, None
            return
        known = json.loads(row.alternating_json) if row.alternating_json else {}
        row.alternating_json = json.dumps({"hashes": list(self.hashes), "versions": sorted(self.versions)})
        if set(known.get("hashes", ())) != set(self.hashes) or row.alternating_since is None:
            row.alternating_since = self.since


def fetch_batches(session: Session, source_id: str, size: int = FETCH_BATCH) -> Iterator[Sequence[Row]]:
    """A source's accepted fetches with a body, in fetch order, `size` rows per query (keyset pages),
    as light rows (id, blob, content type, addresses, time): memory does not grow with the history."""
    query = (select(Fetch.id, Fetch.blob_sha256, Fetch.content_type, Fetch.url, Fetch.final_url, Fetch.fetched_at)
             .where(Fetch.source_id == source_id, Fetch.blob_sha256.is_not(None), Fetch.outcome.in_(ACCEPTED_OUTCOMES))
             .order_by(Fetch.fetched_at, Fetch.id).limit(size))
    after = query
    while True:
        rows = session.exec(after).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1]
        after = query.where(or_(Fetch.fetched_at > last.fetched_at,
                                and_(Fetch.fetched_at == last.fetched_at, Fetch.id > last.id)))


class _Bodies:
    """A source's fetches with what each body yields, in fetch order, each distinct body derived once
    in the worker processes. The next page of fetches is sent to the workers before this page is
    handed on, so they work while the caller does; at most two pages of bodies are in flight."""

    def __init__(self, session: Session, executor: Executor, snapshots: Path, source: SourceConfig,
                 min_text_chars: int, sites: Sequence[Site], batch: int) -> None:
        self.session, self.executor, self.source, self.batch = session, executor, source, batch
        self.args = (snapshots, source, min_text_chars, tuple(sites))
        # blob → its outcome (without the document) or where it comes from; the oldest outcomes are forgotten
        self.known: OrderedDict[str, _Outcome | tuple[Future, int]] = OrderedDict()
        self.remember = max(KNOWN_BODIES, 4 * batch)  # never a body of the pages in flight

    def _send(self, rows: Sequence[Row]) -> None:
        fresh: dict[str, _Body] = {}
        for row in rows:
            if row.blob_sha256 not in self.known and row.blob_sha256 not in fresh:
                fresh[row.blob_sha256] = _Body(row.blob_sha256, row.content_type, row.final_url or row.url)
        bodies = list(fresh.values())
        for start in range(0, len(bodies), BODY_CHUNK):
            chunk = bodies[start:start + BODY_CHUNK]
            future = self.executor.submit(_derive_chunk, *self.args, chunk)
            for k, body in enumerate(chunk):
                self.known[body.blob_sha256] = (future, k)

    def _take(self, blob: str) -> _Outcome:
        known = self.known[blob]
        if isinstance(known, _Outcome):
            return known
        future, k = known
        outcome = future.result()[k]
        self.known[blob] = _Outcome(outcome.text_hash, outcome.masked_hash, None, outcome.skip, outcome.missing)
        self.known.move_to_end(blob)
        while len(self.known) > self.remember and isinstance(next(iter(self.known.values())), _Outcome):
            self.known.popitem(last=False)
        return outcome

    def __iter__(self) -> Iterator[tuple[Row, _Outcome]]:
        pending: Sequence[Row] | None = None
        for rows in fetch_batches(self.session, self.source.id, self.batch):
            self._send(rows)
            if pending is not None:
                yield from ((row, self._take(row.blob_sha256)) for row in pending)
            pending = rows
        if pending is not None:
            yield from ((row, self._take(row.blob_sha256)) for row in pending)

    def document_json(self, row: Row, min_text_chars: int, archive: Archive) -> str:
        """The document of a body whose outcome did not keep it: derived again, the same."""
        document = _derive_body(archive, self.source, min_text_chars,
                                _Body(row.blob_sha256, row.content_type, row.final_url or row.url))
        if not isinstance(document, Document):  # it derived to a document the first time
            raise ArchiveError(f"snapshot {row.blob_sha256} no longer derives as it did: {document}")
        return document.to_json()


def _replay(session: Session, archive: Archive, executor: Executor, source: SourceConfig, min_text_chars: int,
            report: SourceReport, batch: int) -> tuple[list[_Derived], _Alternation]:
    derived: list[_Derived] = []
    alternation = _Alternation()
    sites = load_sites(session, source.id)  # what was seen to vary per request is not a version
    rules = rules_version(source.select, source.remove)
    bodies = _Bodies(session, executor, archive.root, source, min_text_chars, sites, batch)
    for fetch, outcome in bodies:
        if outcome.missing:
            raise ArchiveError(outcome.missing)  # the source is left as it was
        if outcome.skip:
            report.skipped_fetches[fetch.id] = outcome.skip
            continue
        if derived and (derived[-1].text_hash == outcome.text_hash or sites and
                        derived[-1].masked_hash == outcome.masked_hash):
            continue
        if alternation.absorbs(outcome.masked_hash, derived, fetch.fetched_at):
            continue
        document_json = outcome.document_json or bodies.document_json(fetch, min_text_chars, archive)
        columns = executor.submit(_version_columns, document_json, source.language, rules)
        derived.append(_Derived(fetch, outcome.text_hash, outcome.masked_hash, columns))
    return derived, alternation


def _version_columns(document_json: str, language: str | None, rules: str) -> dict:
    """A version's derived columns from its document (in a worker process)."""
    return version_fields(Document.from_json(document_json), language, rules)


def _change_columns(old: dict, new: dict, language: str | None, fetched_at: datetime,
                    sites: tuple[Site, ...]) -> dict:
    """A change's derived columns from its two versions' columns (in a worker process)."""
    return change_fields(Version(**old), Version(**new), Document.from_json(new["document_json"]), language=language,
                         fetched_at=fetched_at, sites=sites)


def match_versions(before: list[str], after: list[str]) -> list[tuple[int, int]]:
    """Order-preserving pairs (old position, new position) of equal text hashes.

    The same text at the same number is always paired (its number and row stay); between those
    anchors the longest runs of equal texts are paired, as difflib aligns sequences.
    """
    anchors = [k for k in range(min(len(before), len(after))) if before[k] == after[k]]
    pairs: list[tuple[int, int]] = []
    start = 0
    for end in [*anchors, None]:
        stop_a, stop_b = (len(before), len(after)) if end is None else (end, end)
        matcher = difflib.SequenceMatcher(None, before[start:stop_a], after[start:stop_b], autojunk=False)
        for block in matcher.get_matching_blocks():
            pairs += [(start + block.a + k, start + block.b + k) for k in range(block.size)]
        if end is not None:
            pairs.append((end, end))
            start = end + 1
    return pairs


def _rebuild(session: Session, archive: Archive, executor: Executor, source: SourceConfig, min_text_chars: int,
             report: SourceReport, batch: int) -> None:
    # Writers of one source's versions serialise on its row (PostgreSQL; SQLite has one writer anyway).
    session.exec(select(Source.id).where(Source.id == source.id).with_for_update())
    old_versions = list(session.exec(select(Version).where(Version.source_id == source.id)
                                     .order_by(Version.number)))
    old_changes = list(session.exec(select(Change).where(Change.source_id == source.id).order_by(Change.id)))
    report.versions_before = [v.text_sha256 for v in old_versions]
    derived, alternation = _replay(session, archive, executor, source, min_text_chars, report, batch)
    alternation.store(status_row(session, source.id))
    report.versions_after = [d.text_hash for d in derived]

    row_for = {j: old_versions[i] for i, j in match_versions(report.versions_before, report.versions_after)}
    kept_ids = {row.id for row in row_for.values()}
    hash_of = {v.id: v.text_sha256 for v in old_versions}
    pending: dict[tuple[str, str], deque[Change]] = defaultdict(deque)
    for change in old_changes:
        pending[(hash_of.get(change.old_version_id), hash_of.get(change.new_version_id))].append(change)
    pairs = list(zip(report.versions_after, report.versions_after[1:], strict=False))
    kept_changes: dict[int, Change] = {}
    for position, pair in enumerate(pairs, start=1):
        if pending.get(pair):
            kept_changes[position] = pending[pair].popleft()
    kept_change_ids = {c.id for c in kept_changes.values()}
    # Then the same moment in history: the change whose new version began with the same fetch.
    fetch_of = {v.id: v.fetch_id for v in old_versions}
    at_fetch = {fetch_of.get(c.new_version_id): c for c in old_changes}
    for position in range(1, len(derived)):
        change = at_fetch.get(derived[position].fetch.id)
        if position not in kept_changes and change is not None and change.id not in kept_change_ids:
            kept_changes[position] = change
            kept_change_ids.add(change.id)

    # Phase 1: changes that no longer occur go first (nothing else may point at them).
    for change in old_changes:
        if change.id not in kept_change_ids:
            session.delete(change)
            report.changes_removed += 1
    session.flush()
    # Phase 2: rows that move or go step aside to unique negative numbers (the unique constraint holds).
    final_number = {row_for[j].id: j + 1 for j in row_for}
    old_number = {v.id: v.number for v in old_versions}
    for version in old_versions:
        if final_number.get(version.id) != version.number:
            version.number = -version.id
            session.add(version)
    session.flush()
    # Phase 3: every version at its final number: kept rows refreshed, new texts inserted.
    rows: list[Version] = []
    for j, item in enumerate(derived):
        row = row_for.get(j)
        if row is None:
            row = Version(source_id=source.id, number=j + 1)
        else:
            report.kept_versions += 1
            if old_number[row.id] != j + 1:
                report.renumbered.append((old_number[row.id], j + 1))
            if row.document_json != item.fields["document_json"] or row.notice_date_json != item.fields[
                    "notice_date_json"]:
                report.refreshed_documents += 1
        for key, value in item.fields.items():
            setattr(row, key, value)
        row.number, row.fetch_id, row.blob_sha256 = j + 1, item.fetch.id, item.fetch.blob_sha256
        row.created_at = item.fetch.fetched_at
        session.add(row)
        rows.append(row)
    session.flush()
    sites = tuple(load_sites(session, source.id))
    # Phase 4: one change per neighbouring pair, kept ids where the text pair is the same (diffs in the workers).
    diffs = [executor.submit(_change_columns, derived[position - 1].fields, derived[position].fields,
                             source.language, rows[position].created_at, sites)
             for position in range(1, len(rows))]
    for position, diff in enumerate(diffs, start=1):
        old, new, fields = rows[position - 1], rows[position], diff.result()
        change = kept_changes.get(position)
        if change is None:
            change = Change(source_id=source.id, old_version_id=old.id, new_version_id=new.id)
            report.changes_added += 1
        else:
            report.changes_kept += 1
            if json.loads(change.diff_json) != json.loads(fields["diff_json"]):
                report.changes_rediffed += 1
        change.old_version_id, change.new_version_id, change.detected_at = old.id, new.id, new.created_at
        for key, value in fields.items():
            setattr(change, key, value)
        session.add(change)
    session.flush()
    # Phase 5: old texts that are gone.
    for version in old_versions:
        if version.id not in kept_ids:
            session.delete(version)
    session.flush()


def reextract_source(engine: Engine, loaded: LoadedConfig, source: SourceConfig, *, dry_run: bool = False,
                     executor: Executor | None = None, batch: int = FETCH_BATCH) -> SourceReport:
    """Rebuild one source's versions and changes in one transaction (rolled back on a dry run).
    Bodies are derived and changes diffed by `executor`'s processes (default: in this process);
    the source's fetch rows are read `batch` at a time."""
    report = SourceReport(source.id)
    archive = Archive(loaded.snapshots_dir)
    session = Session(engine, expire_on_commit=False)
    try:
        _rebuild(session, archive, executor or _Inline(), source, loaded.config.crawl.min_text_chars, report, batch)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except ArchiveError as exc:
        session.rollback()
        report = SourceReport(source.id, error=str(exc))
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    return report


def reextract(engine: Engine, loaded: LoadedConfig, source_ids: list[str] | None = None, *,
              dry_run: bool = False, workers: int | None = None, batch: int = FETCH_BATCH) -> list[SourceReport]:
    """Rebuild every configured (or the named) source; one transaction per source.

    The CPU work (extraction, hashing, diffs) runs in `workers` forked processes (default [crawl]
    extract_workers, 0 meaning one per core), fed a source's bodies in order, so every core works
    while this process reads and writes the database; with one worker it all runs here."""
    sources = loaded.config.sources_named(source_ids)
    count = workers or loaded.config.crawl.extract_workers or os.cpu_count() or 1
    if count == 1:
        return [reextract_source(engine, loaded, source, dry_run=dry_run, batch=batch) for source in sources]
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork")) as executor:
        return [reextract_source(engine, loaded, source, dry_run=dry_run, executor=executor, batch=batch)
                for source in sources]
