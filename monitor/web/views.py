"""The data behind every page, as JSON-ready dicts: the HTML page and its JSON twin show the same.

Queries read only the columns a page needs (a version's document is loaded only where its text is
shown), so the overview stays fast with thousands of notices.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter, defaultdict

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.core import Document, FetchOutcome, Significance, Standing, as_utc, iso_utc
from monitor.dates import NoticeDate, find_notice_date
from monitor.diff import DELETE, EQUAL, GAP, INSERT, collapse, diff_documents, mask_document, word_diff
from monitor.store import (
    READ_INDEXES,
    Change,
    Fetch,
    Source,
    SourceStatus,
    Version,
    alternating_of,
    change_record,
    decide_standing,
    load_sites,
    source_standings,
    standing_facts,
    unreviewed_counts,
)
from monitor.web.blame import clause_origins

STATUSES = tuple(Standing)
PROBLEM_OUTCOMES = (FetchOutcome.FAILED, FetchOutcome.SUSPICIOUS)
SORT_KEYS = ("company", "status", "last_check", "last_change", "versions")
OPS = {-1: "del", 0: "same", 1: "ins"}
_WORD_OPS = {-1: DELETE, 0: EQUAL, 1: INSERT}
_WEB_OPS = {DELETE: "del", EQUAL: "same", INSERT: "ins", GAP: "gap"}
_found_dates: dict[tuple[int, str], str | None] = {}


class NotFound(LookupError):
    """The requested notice, version or change does not exist; the message says which."""




def stored_or_found_date(session: Session, version_id: int, text_sha256: str, stored: str | None) -> str | None:
    """The version's date statement JSON: as stored, else found in its text once and remembered.

    Versions recorded before the date finder ran have no stored statement; versions never change,
    so finding it once per (version, text) is enough.
    """
    if stored:
        return stored
    key = (version_id, text_sha256)
    if key not in _found_dates:
        version = session.get(Version, version_id)
        found = find_notice_date(Document.from_json(version.document_json)) if version else None
        _found_dates[key] = json.dumps(found.to_dict()) if found else None
    return _found_dates[key]


def active_flags(flags: dict | list | None) -> list[str]:
    """Names of the date flags that are set (`silent_change`, `date_changed`, ...)."""
    if isinstance(flags, dict):
        return [name for name, value in flags.items() if value]
    return [str(f) for f in flags or []]


def date_statement(notice_date_json: str | dict | None) -> dict | None:
    """The notice's own date statement of a version (as the date finder stored it), or None."""
    if not notice_date_json:
        return None
    try:
        data = json.loads(notice_date_json) if isinstance(notice_date_json, str) else notice_date_json
    except ValueError:
        return None
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict) or not data.get("value"):
        return None
    return {"value": data.get("value"), "precision": data.get("precision"),
            "display": data.get("display") or data.get("value"), "kind": data.get("kind"),
            "sentence": data.get("sentence")}


def _stated_date(statement: dict | None) -> dt.date | None:
    if not statement:
        return None
    try:
        return dt.date.fromisoformat(str(statement["value"])[:10])
    except ValueError:
        return None


def _source_url(source: Source) -> str | None:
    return source.url or source.discovered_url or source.homepage


_facts_cache: dict[str, tuple[tuple, list[dict]]] = {}
_facts_lock = threading.Lock()


def ensure_read_indexes(engine: Engine) -> None:
    """Covering indexes for the overview's queries (derived, idempotent; SQLite and PostgreSQL)."""
    for index in READ_INDEXES:
        index.create(engine, checkfirst=True)


def _fingerprint(session: Session) -> tuple:
    """Changes whenever a crawl or reextract writes: the history only grows or is rebuilt."""
    latest = [select(func.max(Fetch.id)).scalar_subquery(), select(func.max(Version.id)).scalar_subquery(),
              select(func.max(Change.id)).scalar_subquery(), select(func.count()).select_from(Source).scalar_subquery()]
    return tuple(session.exec(select(*latest)).one())


def overview_facts(session: Session) -> list[dict]:
    """What the overview knows of each notice apart from the clock, cached until the history changes."""
    key = str(session.get_bind().url)
    fingerprint = _fingerprint(session)
    with _facts_lock:
        cached = _facts_cache.get(key)
        if cached and cached[0] == fingerprint:
            return cached[1]
    last_ids = select(func.max(Fetch.id)).group_by(Fetch.source_id)
    last_fetch = {row.source_id: row for row in session.exec(
        select(Fetch.source_id, Fetch.outcome, Fetch.status, Fetch.error, Fetch.final_url, Fetch.fetched_at)
        .where(Fetch.id.in_(last_ids))).all()}
    standing_of = standing_facts(session)
    latest = (select(Version.source_id, func.max(Version.number).label("number"))
              .group_by(Version.source_id).subquery())
    current = {sid: (number, created, stored_or_found_date(session, vid, sha, statement))
               for vid, sid, number, created, sha, statement in session.exec(
                   select(Version.id, Version.source_id, Version.number, Version.created_at, Version.text_sha256,
                          Version.notice_date_json)
                   .join(latest, (latest.c.source_id == Version.source_id) & (latest.c.number == Version.number)))}
    first_seen = dict(session.exec(select(Version.source_id, func.min(Version.created_at))
                                   .group_by(Version.source_id)).all())
    changes: dict[str, list[dict]] = defaultdict(list)
    times: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for change_id, source_id, detected, significance, flags_json in session.exec(
            select(Change.id, Change.source_id, Change.detected_at, Change.significance, Change.flags_json)
            .order_by(Change.source_id, Change.detected_at, Change.id)):
        silent = bool(json.loads(flags_json or "{}").get("silent_change"))
        changes[source_id].append({"id": change_id, "detected_at": iso_utc(detected), "significance": significance,
                                   "silent": silent})
        times[source_id].append((as_utc(detected).timestamp(), significance != "cosmetic"))
    facts = []
    for source in session.exec(select(Source)).all():
        number, created, statement = current.get(source.id, (None, None, None))
        own = changes.get(source.id, [])
        seen = first_seen.get(source.id)
        facts.append({"standing": standing_of.get(source.id),
                      "timeline": (as_utc(seen).timestamp() if seen else None, times.get(source.id, [])),
                      "row": {"source": source.id, "company": source.name, "url": _source_url(source),
                              "last_check": iso_utc(last_fetch[source.id].fetched_at)
                              if source.id in last_fetch else None,
                              "last_change": own[-1]["detected_at"] if own else None,
                              "last_change_id": own[-1]["id"] if own else None,
                              "last_significance": own[-1]["significance"] if own else None,
                              "last_silent": own[-1]["silent"] if own else False,
                              "versions": number or 0, "current_since": iso_utc(created),
                              "first_seen": iso_utc(first_seen.get(source.id)),
                              "date_statement": date_statement(statement), "changes": own}})
    with _facts_lock:
        _facts_cache[key] = (fingerprint, facts)
    return facts


def overview(session: Session, *, now: dt.datetime, stale_after: dt.timedelta, sort: str = "company",
             descending: bool = False, status: str | None = None, query: str | None = None) -> dict:
    """Every notice with its status, last check, last change, current date statement and changes.

    `timelines` (not part of the JSON) maps each notice to (first seen, [(change time, material)]) as
    epoch seconds, for the page's sparklines.
    """
    rows = []
    timelines: dict[str, tuple] = {}
    needle = (query or "").strip().lower()
    open_reviews = unreviewed_counts(session)  # not cached with the facts: a review changes no history
    for fact in overview_facts(session):
        row = fact["row"]
        if needle and needle not in row["source"].lower() and needle not in (row["company"] or "").lower():
            continue
        standing = decide_standing(fact["standing"], now, stale_after)
        if status and standing.standing != status:
            continue
        rows.append({**row, "status": standing.standing.value, "status_reason": standing.reason,
                     "unreviewed": open_reviews.get(row["source"], 0)})
        timelines[row["source"]] = fact["timeline"]
    rank = {name: i for i, name in enumerate(STATUSES)}
    keys = {"company": lambda r: (r["company"] or r["source"]).lower(), "status": lambda r: rank[r["status"]],
            "last_check": lambda r: r["last_check"] or "", "last_change": lambda r: r["last_change"] or "",
            "versions": lambda r: r["versions"],
            # most significant last change first, a silent one before a dated one, then the newest
            "significance": lambda r: (-Significance.rank_of(r["last_significance"]) if r["last_significance"]
                                       else 1, not r["last_silent"], -_epoch(r["last_change"])),
            "unreviewed": lambda r: -r["unreviewed"]}
    rows.sort(key=lambda r: (keys[sort](r), r["source"]), reverse=descending)
    return {"notices": rows, "counts": dict(Counter(r["status"] for r in rows)), "now": iso_utc(now),
            "timelines": timelines}


def _epoch(iso: str | None) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0


def _source(session: Session, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"no notice {source_id!r}")
    return source


def _version(session: Session, source_id: str, number: int) -> Version:
    version = session.exec(select(Version).where(Version.source_id == source_id,
                                                 Version.number == number)).first()
    if version is None:
        raise NotFound(f"{source_id}: no version {number}")
    return version


def notice(session: Session, source_id: str, *, now: dt.datetime, stale_after: dt.timedelta) -> dict:
    """One notice: its versions, fetch problems, date statements over time and changes."""
    source = _source(session, source_id)
    last = session.exec(select(Fetch).where(Fetch.source_id == source_id).order_by(Fetch.id.desc())).first()
    standing = source_standings(session, now, stale_after, [source_id])[source_id]
    versions = [{"number": n, "created_at": iso_utc(c), "chars": chars, "blocks": blocks,
                 "date_statement": date_statement(stored_or_found_date(session, vid, sha, nd)),
                 "raw": blob is not None}
                for vid, n, c, chars, blocks, sha, nd, blob in session.exec(
                    select(Version.id, Version.number, Version.created_at, Version.chars, Version.block_count,
                           Version.text_sha256, Version.notice_date_json, Version.blob_sha256)
                    .where(Version.source_id == source_id).order_by(Version.number)).all()]
    problems = [{"fetched_at": iso_utc(f.fetched_at), "status": f.status, "error": f.error, "url": f.url}
                for f in session.exec(select(Fetch).where(Fetch.source_id == source_id,
                                                          Fetch.outcome.in_(PROBLEM_OUTCOMES))
                                      .order_by(Fetch.id.desc()).limit(200))]
    number_of = {vid: n for vid, n in session.exec(select(Version.id, Version.number)
                                                   .where(Version.source_id == source_id))}
    changes = []
    for change in session.exec(select(Change).where(Change.source_id == source_id)
                               .order_by(Change.detected_at, Change.id)):
        diff = json.loads(change.diff_json)
        clauses = diff.get("clauses", [])
        changes.append({
            "id": change.id, "detected_at": iso_utc(change.detected_at),
            "old_version": number_of.get(change.old_version_id), "new_version": number_of.get(change.new_version_id),
            "counts": {"added": change.added, "removed": change.removed, "modified": change.modified},
            "kinds": dict(Counter(c.get("kind") for c in clauses)),
            "tags": sorted({t for c in clauses for t in c.get("tags", []) or []}),
            "significance": change.significance, "cosmetic_only": change.cosmetic_only,
            "flags": active_flags(diff.get("flags")),
            "context": json.loads(change.context_json) if change.context_json else None,
        })
    timeline = ([{"kind": "version", "at": v["created_at"], "version": v["number"]} for v in versions]
                + [{"kind": "problem", "at": p["fetched_at"], "error": p["error"], "status": p["status"]}
                   for p in problems])
    timeline.sort(key=lambda e: e["at"] or "")
    return {"source": source.id, "company": source.name, "url": _source_url(source), "status": standing.standing.value,
            "status_reason": standing.reason, "last_check": iso_utc(last.fetched_at) if last else None,
            "alternating": _alternating(session, source_id),
            "versions": versions, "problems": problems, "changes": changes, "timeline": timeline}


def _alternating(session: Session, source_id: str) -> dict | None:
    """The two versions a page flips between (not reported again until a third text appears)."""
    found = alternating_of(session.get(SourceStatus, source_id))
    return {**found, "since": iso_utc(found["since"])} if found else None


def date_rows(data: dict) -> list[tuple[int, dt.datetime, dt.date | None, str | None]]:
    """(version, seen at, stated date, label) per version, for the date chart."""
    rows = []
    for version in data["versions"]:
        statement = version["date_statement"]
        seen = dt.datetime.fromisoformat(version["created_at"].replace("Z", "+00:00"))
        rows.append((version["number"], seen, _stated_date(statement), statement["display"] if statement else None))
    return rows


def version_page(session: Session, source_id: str, number: int) -> dict:
    """A version's text as blocks (rendered by the template as Markdown would be), outline and date."""
    source = _source(session, source_id)
    version = _version(session, source_id, number)
    document = Document.from_json(version.document_json)
    blocks = [{"index": i, **b.to_dict()} for i, b in enumerate(document.blocks)]
    outline = [{"index": b["index"], "level": b["level"] or 2, "text": b["text"]}
               for b in blocks if b["kind"] == "heading"]
    latest = session.exec(select(func.max(Version.number)).where(Version.source_id == source_id)).one()
    return {"source": source.id, "company": source.name, "number": version.number,
            "created_at": iso_utc(version.created_at), "title": document.title,
            "date_statement": date_statement(stored_or_found_date(session, version.id, version.text_sha256,
                                                                  version.notice_date_json)),
            "outline": outline, "blocks": blocks,
            "markdown": version.markdown, "raw_sha256": version.blob_sha256,
            "previous": number - 1 if number > 1 else None, "next": number + 1 if number < latest else None}


def raw_blob(session: Session, source_id: str, number: int) -> str:
    """The archive sha256 of the raw body a version was extracted from."""
    version = _version(session, source_id, number)
    if not version.blob_sha256:
        raise NotFound(f"{source_id}: version {number} has no raw snapshot")
    return version.blob_sha256


#: A clause longer than this is shown summarised: unchanged stretches cut to `LONG_CLAUSE_CONTEXT`
#: characters around each edit, with a "gap" segment and links to the two versions' full text.
LONG_CLAUSE_CHARS = 20_000
LONG_CLAUSE_CONTEXT = 300
#: At most this many characters of an added or removed long clause are shown.
LONG_CLAUSE_SHOWN = 5_000


def _segments(clause: dict, ops: list[tuple[int, str]] | None = None) -> list[list[str]]:
    """[[op, text]] (same | del | ins | gap) for the template: the differ's word diff, never HTML.

    `ops` are the word diff the differ already made for this clause (not made twice). A very long
    clause (a 1 MB paragraph) is summarised: long unchanged stretches become a `gap` holding the
    number of characters left out, and `clause["summarised"]` is set so the page links the full text.
    """
    old, new = clause.get("old_text"), clause.get("new_text")
    long = max(len(old or ""), len(new or "")) > LONG_CLAUSE_CHARS
    clause["summarised"] = long
    if old is not None and new is not None:
        pieces = [(op, piece) for op, piece in (ops if ops is not None else word_diff(old, new)) if piece]
        if not long:
            return [[OPS[op], piece] for op, piece in pieces]
        return [[_WEB_OPS[op], piece] for op, piece in
                collapse([(_WORD_OPS[op], piece) for op, piece in pieces], LONG_CLAUSE_CONTEXT)]
    text, op = (new, "ins") if new is not None else (old or "", "del")
    if long:
        return [[op, text[:LONG_CLAUSE_SHOWN]], ["gap", str(len(text) - LONG_CLAUSE_SHOWN)]]
    return [[op, text]]


def diff_page(session: Session, source_id: str, old: int, new: int, *, tag: str | None = None,
              significance: str | None = None) -> dict:
    """Clause-by-clause differences between any two versions, with word-level segments."""
    source = _source(session, source_id)
    old_version, new_version = _version(session, source_id, old), _version(session, source_id, new)
    dates = [stored_or_found_date(session, v.id, v.text_sha256, v.notice_date_json)
             for v in (old_version, new_version)]
    # A version without a date statement stores the JSON "null".
    old_date, new_date = (NoticeDate.from_dict(data) if (data := json.loads(d) if d else None) else None
                          for d in dates)
    sites = load_sites(session, source_id)  # what varies per request is not shown as a difference
    old_document, _ = mask_document(Document.from_json(old_version.document_json), sites)
    new_document, _ = mask_document(Document.from_json(new_version.document_json), sites)
    result = diff_documents(old_document, new_document, old_date=old_date, new_date=new_date,
                            fetched_at=as_utc(new_version.created_at), language=source.language)
    diff = result.to_dict()
    diff["flags"] = active_flags(diff.get("flags"))
    clauses = diff.pop("clauses", [])
    for position, (clause, change) in enumerate(zip(clauses, result.changes, strict=True)):
        clause["position"] = position
        clause["segments"] = _segments(clause, change.ops)
    tags = sorted({t for c in clauses for t in c.get("tags", []) or []})
    significances = sorted({c["significance"] for c in clauses if c.get("significance")})
    shown = [c for c in clauses if (not tag or tag in (c.get("tags") or []))
             and (not significance or c.get("significance") == significance)]
    stored = session.exec(select(Change).where(Change.old_version_id == old_version.id,
                                               Change.new_version_id == new_version.id)).first()
    return {"source": source.id, "company": source.name, "old_version": old, "new_version": new,
            "old_created_at": iso_utc(old_version.created_at), "new_created_at": iso_utc(new_version.created_at),
            "old_date_statement": date_statement(dates[0]), "new_date_statement": date_statement(dates[1]),
            "change_id": stored.id if stored else None,
            "context": json.loads(stored.context_json) if stored and stored.context_json else None,
            "significance": stored.significance if stored else diff.get("significance"),
            "filters": {"tag": tag, "significance": significance}, "tags": tags, "significances": significances,
            "total": len(clauses), "clauses": shown,
            **{k: v for k, v in diff.items() if k not in ("clauses", "significance")}}


def blame_page(session: Session, source_id: str, number: int) -> dict:
    """Each clause of a version with the version since which it has stood unchanged."""
    source = _source(session, source_id)
    version = _version(session, source_id, number)
    origins = clause_origins(session, version)
    created = {n: iso_utc(c) for n, c in session.exec(select(Version.number, Version.created_at)
                                                       .where(Version.source_id == source_id))}
    blocks = Document.from_json(version.document_json).blocks
    clauses = [{"index": i, "kind": b.kind, "text": b.text, "heading_path": list(b.heading_path),
                "level": b.level, "since_version": o.version, "since": created.get(o.version),
                "change_id": o.change_id} for i, (b, o) in enumerate(zip(blocks, origins, strict=True))]
    return {"source": source.id, "company": source.name, "number": number,
            "created_at": iso_utc(version.created_at), "clauses": clauses}


def change_by_id(session: Session, change_id: int) -> dict:
    """One stored change in the `changes --json` shape."""
    change = session.get(Change, change_id)
    if change is None:
        raise NotFound(f"no change {change_id}")
    return change_record(change, session.get(Source, change.source_id), session.get(Version, change.old_version_id),
                         session.get(Version, change.new_version_id))


def version_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → "v1–v3, v5"."""
    parts: list[str] = []
    start = previous = None
    for number in sorted(set(numbers)):
        if start is None:
            start = previous = number
        elif number == previous + 1:
            previous = number
        else:
            parts.append(f"v{start}" if start == previous else f"v{start}–v{previous}")
            start = previous = number
    if start is not None:
        parts.append(f"v{start}" if start == previous else f"v{start}–v{previous}")
    return ", ".join(parts)
