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
"""

from __future__ import annotations

import difflib
import json
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass
class _Derived:
    """One version as the current extractor makes it, from the first fetch that yielded its text."""

    document: Document
    fetch: Fetch
    fields: dict


@dataclass
class _Alternation:
    """Recording's alternation (monitor/store/persistence.py), replayed over a rebuilt history: once
    it starts, a switch between the two texts is no new version, until a third text appears."""

    hashes: tuple[str, str] | None = None
    versions: list[int] = field(default_factory=list)
    since: datetime | None = None

    def absorbs(self, digest: str, derived: list[_Derived], sites: Sequence[Site], when: datetime) -> bool:
        """Is this text (masked `digest`) one of the two the page alternates between? It may start that."""
        if self.hashes is not None:
            if digest in self.hashes:
                return True
            self.hashes, self.versions, self.since = None, [], None
            return False
        recent = [masked_sha256(d.document, sites) for d in derived[-1:-4:-1]]
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


def _replay(session: Session, archive: Archive, source: SourceConfig, min_text_chars: int,
            report: SourceReport) -> tuple[list[_Derived], _Alternation]:
    fetches = session.exec(select(Fetch).where(Fetch.source_id == source.id, Fetch.blob_sha256.is_not(None),
                                               Fetch.outcome.in_(ACCEPTED_OUTCOMES))
                           .order_by(Fetch.fetched_at, Fetch.id)).all()
    derived: list[_Derived] = []
    alternation = _Alternation()
    by_blob: dict[str, Document | str] = {}
    sites = load_sites(session, source.id)  # what was seen to vary per request is not a version
    for fetch in fetches:
        document = by_blob.get(fetch.blob_sha256)
        if document is None:
            body = archive.get(fetch.blob_sha256)  # ArchiveError: the source is left as it was
            try:
                document = derive_document(body, fetch.content_type, source, fetch.final_url or fetch.url)
            except Exception as exc:  # the same rule as record_fetch: hostile input fails the fetch
                document = extraction_failure(exc, fetch.final_url or fetch.url)
            if isinstance(document, Document) and document.char_count() < min_text_chars:
                document = f"empty or tiny body: {document.char_count()} characters of text"
            by_blob[fetch.blob_sha256] = document
        if isinstance(document, str):
            report.skipped_fetches[fetch.id] = document
            continue
        text_hash = text_sha256(document)
        if derived and (derived[-1].fields["text_sha256"] == text_hash or sites and
                        masked_sha256(derived[-1].document, sites) == masked_sha256(document, sites)):
            continue
        if alternation.absorbs(masked_sha256(document, sites), derived, sites, fetch.fetched_at):
            continue
        derived.append(_Derived(document, fetch, version_fields(document, source.language,
                                                                   rules_version(source.select, source.remove))))
    return derived, alternation





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


def _rebuild(session: Session, archive: Archive, source: SourceConfig, min_text_chars: int,
             report: SourceReport) -> None:
    # Writers of one source's versions serialise on its row (PostgreSQL; SQLite has one writer anyway).
    session.exec(select(Source.id).where(Source.id == source.id).with_for_update())
    old_versions = list(session.exec(select(Version).where(Version.source_id == source.id)
                                     .order_by(Version.number)))
    old_changes = list(session.exec(select(Change).where(Change.source_id == source.id).order_by(Change.id)))
    report.versions_before = [v.text_sha256 for v in old_versions]
    derived, alternation = _replay(session, archive, source, min_text_chars, report)
    alternation.store(status_row(session, source.id))
    report.versions_after = [d.fields["text_sha256"] for d in derived]

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
    sites = load_sites(session, source.id)
    # Phase 4: one change per neighbouring pair, kept ids where the text pair is the same.
    for position in range(1, len(rows)):
        old, new = rows[position - 1], rows[position]
        fields = change_fields(old, new, derived[position].document, language=source.language,
                               fetched_at=new.created_at, sites=sites)
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


def reextract_source(engine: Engine, loaded: LoadedConfig, source: SourceConfig, *,
                     dry_run: bool = False) -> SourceReport:
    """Rebuild one source's versions and changes in one transaction (rolled back on a dry run)."""
    report = SourceReport(source.id)
    archive = Archive(loaded.snapshots_dir)
    session = Session(engine, expire_on_commit=False)
    try:
        _rebuild(session, archive, source, loaded.config.crawl.min_text_chars, report)
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
              dry_run: bool = False) -> list[SourceReport]:
    """Rebuild every configured (or the named) source; one transaction per source."""
    return [reextract_source(engine, loaded, source, dry_run=dry_run)
            for source in loaded.config.sources_named(source_ids)]
