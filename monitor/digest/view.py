"""What a digest says: change records and failing notices → a view the templates render.

Pure data in, data out (no database, no Jinja), so the rules are testable on their own:
- changes below the subscription's `min_significance` are left out (and counted as skipped);
- per notice, changes in detection order; per change, clauses by significance (material first),
  then in document order, with their word-level difference shortened around the edits;
- the summary counts notices changed, notices with material changes and silent changes.

The change record is the JSON shape of monitor/query.py. Keys the clause differ adds (`significance`,
`tags` per clause, `flags` and the date statement per change) are used when present; without them a
clause counts as material and no date line is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.config import SubscriptionConfig
from monitor.core import Significance
from monitor.diff import EQUAL, Segment, collapse, truncate, word_segments
from monitor.store import FailingSource

MAX_CLAUSES_PER_CHANGE = 25
CLAUSE_CONTEXT = 80
CLAUSE_MAX_CHARS = 1500
DATE_FLAGS = ("silent_change", "date_only", "date_backwards", "date_in_future", "date_added", "date_removed")


@dataclass
class Links:
    """Addresses in the history web page; empty strings when no `base_url` is configured."""

    base_url: str | None

    def change(self, change_id: int | None) -> str:
        return f"{self.base_url}/changes/{change_id}" if self.base_url and change_id is not None else ""

    def clause(self, change_id: int | None, position: int) -> str:
        url = self.change(change_id)
        return f"{url}#clause-{position}" if url else ""

    def source(self, source_id: str) -> str:
        return f"{self.base_url}/sources/{source_id}" if self.base_url else ""


@dataclass
class ClauseView:
    position: int
    kind: str
    heading_path: list[str]
    significance: str
    tags: list[str]
    segments: list[Segment]
    truncated: bool
    url: str


@dataclass
class ChangeView:
    id: int | None
    detected_at: str | None
    old_version: int | None
    new_version: int | None
    significance: str
    flags: list[str]
    date_old: str | None
    date_new: str | None
    clauses: list[ClauseView]
    hidden_below: int
    more: int
    url: str

    @property
    def silent(self) -> bool:
        return "silent_change" in self.flags


@dataclass
class NoticeView:
    source_id: str
    name: str
    url: str | None
    history_url: str
    changes: list[ChangeView]

    @property
    def material(self) -> bool:
        return any(c.significance == "material" for c in self.changes)


@dataclass
class Summary:
    notices_changed: int = 0
    notices_material: int = 0
    silent_changes: int = 0
    clauses: int = 0
    failing: int = 0
    skipped_changes: int = 0


@dataclass
class DigestView:
    """Everything a digest template needs."""

    subscription: str
    language: str
    frequency: str
    generated_at: datetime
    since: datetime | None
    notices: list[NoticeView]
    failing: list[FailingSource]
    summary: Summary
    links: Links
    change_ids: list[int] = field(default_factory=list)
    skipped_ids: list[int] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.notices and not self.failing


def _flags(record: dict) -> list[str]:
    flags = record.get("flags") or {}
    if isinstance(flags, dict):
        names = [name for name, value in flags.items() if value]
    else:
        names = [str(name) for name in flags]
    return [name for name in DATE_FLAGS if name in names] + sorted(
        n for n in names if n not in DATE_FLAGS and n != "date_changed")


def _display(date: object) -> str | None:
    if isinstance(date, dict):
        return date.get("display") or date.get("value") or date.get("label")
    return str(date) if date else None


def _date_statement(record: dict) -> tuple[str | None, str | None]:
    """(old, new) of the notice's own date statement, as displayed; (None, None) when unknown."""
    flags = record.get("flags")
    changed = flags.get("date_changed") if isinstance(flags, dict) else None
    if isinstance(changed, dict) and ("old" in changed or "new" in changed):
        return _display(changed.get("old")), _display(changed.get("new"))
    old, new = record.get("old_date"), record.get("new_date")
    if old is None and new is None and record.get("notice_date") is not None:
        old = new = record["notice_date"]
    return _display(old), _display(new)


def _text(value: object) -> str | None:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return value if value is None else str(value)


def clause_segments(clause: dict) -> tuple[list[Segment], bool]:
    """The clause's word diff, shortened around the edits; True when it had to be cut.

    A clause whose words did not change (moved) shows its opening words, enough to recognise it.
    """
    segments = word_segments(_text(clause.get("old_text")), _text(clause.get("new_text")))
    if all(op == EQUAL for op, _ in segments):
        return truncate(segments, 2 * CLAUSE_CONTEXT)
    return truncate(collapse(segments, CLAUSE_CONTEXT), CLAUSE_MAX_CHARS)


def _clause_rank(item: tuple[int, dict]) -> tuple:
    position, clause = item
    return (-Significance.rank_of(clause.get("significance")), position)


def change_view(record: dict, min_rank: int, links: Links) -> ChangeView:
    clauses = list(enumerate(record.get("clauses") or []))
    shown = [(i, c) for i, c in clauses if Significance.rank_of(c.get("significance")) >= min_rank]
    shown.sort(key=_clause_rank)
    views = []
    for position, clause in shown[:MAX_CLAUSES_PER_CHANGE]:
        segments, cut = clause_segments(clause)
        views.append(ClauseView(position=position, kind=str(clause.get("kind") or "modified"),
                                heading_path=[str(h) for h in clause.get("heading_path") or []],
                                significance=str(clause.get("significance") or "material"),
                                tags=[str(t) for t in clause.get("tags") or []],
                                segments=segments, truncated=cut, url=links.clause(record.get("id"), position)))
    date_old, date_new = _date_statement(record)
    return ChangeView(id=record.get("id"), detected_at=record.get("detected_at"),
                      old_version=record.get("old_version"), new_version=record.get("new_version"),
                      significance=str(record.get("significance") or "material"), flags=_flags(record),
                      date_old=date_old, date_new=date_new, clauses=views, hidden_below=len(clauses) - len(shown),
                      more=max(0, len(shown) - MAX_CLAUSES_PER_CHANGE), url=links.change(record.get("id")))


def build_digest(sub: SubscriptionConfig, records: list[dict], failing: list[FailingSource], *,
                 now: datetime, since: datetime | None, base_url: str | None) -> DigestView:
    """The digest of `records` (change records, oldest first) for one subscription."""
    links = Links(base_url)
    min_rank = Significance.rank_of(sub.min_significance)
    notices: dict[str, NoticeView] = {}
    summary = Summary(failing=len(failing))
    taken, skipped = [], []
    for record in records:
        if Significance.rank_of(record.get("significance")) < min_rank or record.get("cosmetic_only") and min_rank > 0:
            skipped.append(record["id"])
            continue
        taken.append(record["id"])
        view = change_view(record, min_rank, links)
        notice = notices.get(record["source"])
        if notice is None:
            notice = notices[record["source"]] = NoticeView(
                source_id=record["source"], name=record.get("source_name") or record["source"],
                url=record.get("url"), history_url=links.source(record["source"]), changes=[])
        notice.changes.append(view)
        summary.clauses += len(view.clauses) + view.more
        summary.silent_changes += view.silent
    ordered = sorted(notices.values(), key=lambda n: (not n.material, n.name.lower()))
    summary.notices_changed = len(ordered)
    summary.notices_material = sum(n.material for n in ordered)
    summary.skipped_changes = len(skipped)
    return DigestView(subscription=sub.name, language=sub.language, frequency=sub.frequency, generated_at=now,
                      since=since, notices=ordered, failing=failing, summary=summary, links=links,
                      change_ids=taken, skipped_ids=skipped)
