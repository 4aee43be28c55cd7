"""Derived columns of versions and changes, computed the same way by `record`, `reextract` and `diff`.

A version stores its document, Markdown and the notice's own date statement (found once, when the
version is stored). A change stores the clause diff of two stored versions, made with the old
version's stored date (not found again from its text), the fetch time (for `date_in_future`) and
the source's language, plus its flags, counts per kind and significance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from monitor.core import Document
from monitor.dates import NoticeDate, find_notice_date
from monitor.diff import CHANGE_KINDS, DiffBudget, DiffBudgetExceeded, Site, diff_documents, mask_document
from monitor.extract import text_sha256
from monitor.store.models import Version


def version_fields(document: Document, language: str | None = None, rules: str | None = None,
                   digest: str | None = None) -> dict:
    """The derived columns of a version: text hash, sizes, stored document, Markdown, the notice's date,
    and the extraction rules that made it. `digest` is the text hash when it was computed already."""
    notice_date = find_notice_date(document, language or document.language)
    return {"rules": rules, "text_sha256": digest or text_sha256(document), "chars": document.char_count(),
            "block_count": len(document.blocks), "document_json": document.to_json(),
            "markdown": document.markdown(),
            "notice_date_json": json.dumps(notice_date.to_dict() if notice_date else None, ensure_ascii=False)}


def stored_notice_date(version: Version, language: str | None = None) -> NoticeDate | None:
    """A version's date statement as stored; found again only for rows stored before dates were kept."""
    if version.notice_date_json is not None:
        data = json.loads(version.notice_date_json)
        return NoticeDate.from_dict(data) if data else None
    return find_notice_date(Document.from_json(version.document_json), language)


def change_fields(old: Version, new: Version, new_document: Document, *, language: str | None,
                  fetched_at: datetime | None, sites: Iterable[Site] = (), budget: DiffBudget | None = None) -> dict:
    """Diff two stored versions (the old one's date as stored) into the derived columns of a Change.

    With volatile `sites`, both texts are compared with those runs masked, so a counter that moved
    is not a modified clause while a real edit beside it is. Raises `monitor.diff.DiffBudgetExceeded`
    past `budget` (default: none)."""
    old_document = Document.from_json(old.document_json)
    language = language or new_document.language or old_document.language
    sites = list(sites)
    if sites:
        old_document, _ = mask_document(old_document, sites)
        new_document, _ = mask_document(new_document, sites)
    diff = diff_documents(old_document, new_document, old_date=stored_notice_date(old, language),
                          new_date=stored_notice_date(new, language), fetched_at=fetched_at, language=language,
                          budget=budget)
    counts = {kind: sum(1 for c in diff.changes if c.kind == kind) for kind in CHANGE_KINDS}
    return {"diff_json": json.dumps(diff.to_dict(), ensure_ascii=False),
            "flags_json": json.dumps(diff.flags, ensure_ascii=False),
            "counts_json": json.dumps(counts), "added": counts["added"], "removed": counts["removed"],
            "modified": counts["modified"], "significance": diff.significance or "cosmetic",
            "cosmetic_only": diff.is_cosmetic_only}


@dataclass(frozen=True)
class DiffJob:
    """The CPU-heavy part of recording a new text, planned so it can run in a worker process.

    It holds plain data only (it crosses a pipe): the current version's stored document and date
    (None for a source's first version), the new document, and how to compare them. `previous_id`,
    `rules` and `sites` let recording check that what was planned is still what it would compute."""

    source_id: str
    previous_id: int | None
    previous_document_json: str | None
    previous_notice_date_json: str | None
    document: Document
    language: str | None
    rules: str | None
    fetched_at: datetime | None
    sites: tuple[Site, ...] = ()
    budget: DiffBudget | None = None
    text_sha256: str | None = None  # the new document's text hash, when the crawl computed it already


@dataclass(frozen=True)
class DerivedColumns:
    """What a DiffJob computed: the new version's columns and, after a previous version, the change's;
    or `error` when the diff went past its budget (the fetch then fails with it)."""

    version: dict
    change: dict | None = None
    error: str | None = None


def derive_columns(job: DiffJob) -> DerivedColumns:
    """Run a DiffJob: pure computation, safe in any process (the crawl runs it in its extraction pool)."""
    fields = version_fields(job.document, job.language, job.rules, job.text_sha256)
    if job.previous_id is None:
        return DerivedColumns(fields)
    old = Version(document_json=job.previous_document_json, notice_date_json=job.previous_notice_date_json)
    try:
        change = change_fields(old, Version(**fields), job.document, language=job.language,
                               fetched_at=job.fetched_at, sites=job.sites, budget=job.budget)
    except DiffBudgetExceeded as exc:
        return DerivedColumns(fields, error=f"diff over budget: {exc}")
    return DerivedColumns(fields, change)
