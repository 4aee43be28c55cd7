"""The FastAPI app: HTML pages, their JSON twins under /api, Atom feeds; read-only.

Stable URLs (digests link to these; see docs/web.md):
    /                                          overview of all notices
    /notices/{source}                          one notice: timeline, date chart, changes (/sources/{source} too)
    /notices/{source}/versions/{n}             a version's text, outline, date statement
    /notices/{source}/versions/{n}/blame       since when each clause has stood
    /notices/{source}/versions/{n}/raw         the raw snapshot, as a download
    /notices/{source}/diff/{old}..{new}        clause-by-clause diff of any two versions
    /changes/{id}                              redirects to the diff page of a stored change (#clause-N kept)
    /search?q=...                              full-text search over all versions
    /feeds/changes.atom, /notices/{source}/changes.atom
Every page's data is at the same path under /api (JSON); the schema is /openapi.json.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.archive import Archive, ArchiveError
from monitor.config import ScheduleConfig
from monitor.core import Standing
from monitor.store import CHANGES_SCHEMA, SearchHit, backend_for, ensure_index, list_changes, query_terms, search
from monitor.web import views
from monitor.web.charts import date_chart, sparkline
from monitor.web.feeds import feed_entries
from monitor.web.security import ATTACHMENT_CSP, Credentials, SecurityMiddleware
from monitor.web.templating import environment

MAX_INT = 2**31 - 1
SourceId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80, description="source id")]
Number = Annotated[int, Path(ge=1, le=MAX_INT, description="version number")]
Span = Annotated[str, Path(pattern=r"^[0-9]{1,9}\.\.[0-9]{1,9}$", description="`old..new` version numbers")]
Sort = Literal["company", "status", "last_check", "last_change", "versions"]
Limit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
Filter = Annotated[str | None, Query(max_length=80)]
SearchQ = Annotated[str | None, Query(max_length=500)]
SPAN = re.compile(r"^([0-9]{1,9})\.\.([0-9]{1,9})$")


DEFAULT_STALE_AFTER = dt.timedelta(seconds=ScheduleConfig().stale_after)  # the one staleness rule's default


class WebSettings:
    """What the app needs besides the database: archive, clock, staleness, templates, credentials."""

    def __init__(self, *, archive: Archive | None = None, clock: Callable[[], dt.datetime] | None = None,
                 stale_after: dt.timedelta = DEFAULT_STALE_AFTER, templates: str | None = None,
                 credentials: Credentials | None = None, index_on_start: bool = False,
                 fleet: Callable[[], dict] | None = None) -> None:
        self.archive = archive
        self.fleet = fleet  # scale mode: the fleet's state (monitor.fleet.state) for the overview
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stale_after = stale_after
        self.templates = templates
        self.credentials = credentials or Credentials()
        self.index_on_start = index_on_start


def _text(value: str | None) -> str | None:
    """Query text without NUL and other control characters (PostgreSQL rejects NUL)."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch >= " " or ch in "\t\n") or None


def _span(span: str) -> tuple[int, int]:
    match = SPAN.match(span)
    if not match:
        raise views.NotFound(f"not a version span: {span!r} (use old..new, e.g. 1..2)")
    old, new = int(match.group(1)), int(match.group(2))
    if not (1 <= old <= MAX_INT and 1 <= new <= MAX_INT):
        raise views.NotFound(f"no versions {span}")
    return old, new


def hit_dict(hit: SearchHit, terms: list[str]) -> dict:
    return {"source": hit.source_id, "kind": hit.kind, "heading_path": hit.heading_path, "text": hit.text,
            "versions": hit.versions, "version_ranges": views.version_ranges(hit.versions),
            "latest_version": hit.versions[-1], "block_index": hit.latest_block_index,
            "highlight": highlight_segments(hit.text, terms)}


def highlight_segments(text: str, terms: list[str]) -> list[list[str]]:
    """[[op, text]] with op "hit" where a query word or phrase occurs (case-insensitive)."""
    if not terms:
        return [["same", text]]
    pattern = re.compile("|".join(r"\W+".join(re.escape(w) for w in t.split()) for t in terms), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        if match.start() > last:
            out.append(["same", text[last:match.start()]])
        out.append(["hit", match.group(0)])
        last = match.end()
    if last < len(text):
        out.append(["same", text[last:]])
    return out


def create_app(engine: Engine, settings: WebSettings | None = None) -> FastAPI:
    """The ASGI app over `engine` (and the archive in `settings`)."""
    settings = settings or WebSettings()
    env = environment(settings.templates)
    env.globals["standings"] = [standing.value for standing in Standing]

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings.index_on_start:
            threading.Thread(target=_warm_up, args=(engine,), name="warm-up", daemon=True).start()
        yield

    app = FastAPI(title="noticewatch history", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Read-only history of watched privacy notices. Every page has a JSON twin "
                              "under /api with the same data; changes use the `noticewatch.changes/2` shape.")
    app.add_middleware(SecurityMiddleware, credentials=settings.credentials)
    views.ensure_read_indexes(engine)
    backend = backend_for(engine)

    def page(template: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(f"web/{template}").render(**context), status_code=status_code)

    @app.exception_handler(views.NotFound)
    async def not_found(request: Request, exc: views.NotFound):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return page("error.html", 404, message=str(exc), title="Not found")

    def overview_data(sort: str, order: str, status: str | None, q: str | None, limit: int, offset: int) -> dict:
        with Session(engine) as session:
            data = views.overview(session, now=settings.clock(), stale_after=settings.stale_after, sort=sort,
                                  descending=order == "desc", status=status, query=_text(q))
        data["total"] = len(data["notices"])
        data["timelines"] = {row["source"]: data["timelines"][row["source"]]
                             for row in data["notices"][offset:offset + limit]}
        data["notices"] = data["notices"][offset:offset + limit]
        data.update(limit=limit, offset=offset, sort=sort, order=order, status=status, q=_text(q))
        data["fleet"] = settings.fleet() if settings.fleet is not None else None
        return data

    @app.get("/", response_class=HTMLResponse, tags=["pages"], summary="Overview of every notice")
    def overview_page(sort: Sort = "company", order: Literal["asc", "desc"] = "asc", status: Standing | None = None,
                      q: Annotated[str | None, Query(max_length=200)] = None, limit: Limit = 200,
                      offset: Offset = 0):
        data = overview_data(sort, order, status, q, limit, offset)
        end = settings.clock().timestamp()
        for row in data["notices"]:
            first, times = data["timelines"][row["source"]]
            row["spark"] = sparkline(times, first if first is not None else end, end)
        return page("overview.html", data=data, title="Notices")

    @app.get("/api/notices", tags=["api"], summary="Overview of every notice (JSON)")
    def overview_api(sort: Sort = "company", order: Literal["asc", "desc"] = "asc", status: Standing | None = None,
                     q: Annotated[str | None, Query(max_length=200)] = None, limit: Limit = 200,
                     offset: Offset = 0) -> dict:
        data = overview_data(sort, order, status, q, limit, offset)
        del data["timelines"]
        return data

    def notice_data(source: str) -> dict:
        with Session(engine) as session:
            return views.notice(session, source, now=settings.clock(), stale_after=settings.stale_after)

    @app.get("/notices/{source}", response_class=HTMLResponse, tags=["pages"], summary="One notice")
    def notice_page(source: SourceId):
        data = notice_data(source)
        return page("notice.html", data=data, chart=date_chart(views.date_rows(data)), title=data["company"])

    @app.get("/sources/{source}", tags=["pages"], summary="Alias of /notices/{source} (digest links)",
             response_class=RedirectResponse, status_code=308)
    def source_alias(source: SourceId):
        return RedirectResponse(f"/notices/{quote(source)}", status_code=308)

    @app.get("/api/notices/{source}", tags=["api"], summary="One notice (JSON)")
    def notice_api(source: SourceId) -> dict:
        return notice_data(source)

    def version_data(source: str, number: int) -> dict:
        with Session(engine) as session:
            return views.version_page(session, source, number)

    @app.get("/notices/{source}/versions/{number}", response_class=HTMLResponse, tags=["pages"],
             summary="A version's text")
    def version_html(source: SourceId, number: Number):
        data = version_data(source, number)
        return page("version.html", data=data, title=f"{data['company']} v{number}")

    @app.get("/api/notices/{source}/versions/{number}", tags=["api"], summary="A version's text (JSON)")
    def version_api(source: SourceId, number: Number) -> dict:
        return version_data(source, number)

    @app.get("/notices/{source}/versions/{number}/raw", tags=["pages"], summary="The raw snapshot (download)",
             response_class=Response)
    def version_raw(source: SourceId, number: Number):
        with Session(engine) as session:
            sha256 = views.raw_blob(session, source, number)
        if settings.archive is None:
            raise views.NotFound("no snapshot archive configured")
        try:
            body = settings.archive.get(sha256)
        except ArchiveError as exc:
            raise views.NotFound(str(exc)) from None
        return _attachment(body, f"{source}-v{number}-{sha256[:12]}.raw", "application/octet-stream")

    @app.get("/notices/{source}/versions/{number}/markdown", tags=["pages"], summary="A version as Markdown",
             response_class=Response)
    def version_markdown(source: SourceId, number: Number):
        data = version_data(source, number)
        return _attachment(data["markdown"].encode("utf-8"), f"{source}-v{number}.md", "text/markdown; charset=utf-8")

    def blame_data(source: str, number: int) -> dict:
        with Session(engine) as session:
            return views.blame_page(session, source, number)

    @app.get("/notices/{source}/versions/{number}/blame", response_class=HTMLResponse, tags=["pages"],
             summary="Clause history of a version")
    def blame_html(source: SourceId, number: Number):
        data = blame_data(source, number)
        return page("blame.html", data=data, title=f"{data['company']} v{number}: clause history")

    @app.get("/api/notices/{source}/versions/{number}/blame", tags=["api"], summary="Clause history (JSON)")
    def blame_api(source: SourceId, number: Number) -> dict:
        return blame_data(source, number)

    @app.get("/notices/{source}/diff", tags=["pages"], summary="Pick two versions (redirects to the diff page)",
             response_class=RedirectResponse, status_code=303)
    def diff_pick(source: SourceId, old: Annotated[int, Query(ge=1, le=MAX_INT)],
                  new: Annotated[int, Query(ge=1, le=MAX_INT)], view: Literal["side", "inline"] = "side",
                  tag: Annotated[str | None, Query(max_length=80)] = None,
                  significance: Annotated[str | None, Query(max_length=80)] = None):
        params = urlencode({k: v for k, v in (("view", view), ("tag", _text(tag)),
                                              ("significance", _text(significance))) if v and v != "side"})
        return RedirectResponse(f"/notices/{quote(source)}/diff/{old}..{new}" + (f"?{params}" if params else ""),
                                status_code=303)

    def diff_data(source: str, span: str, tag: str | None, significance: str | None) -> dict:
        old, new = _span(span)
        with Session(engine) as session:
            return views.diff_page(session, source, old, new, tag=_text(tag), significance=_text(significance))

    @app.get("/notices/{source}/diff/{span}", response_class=HTMLResponse, tags=["pages"],
             summary="Diff between two versions")
    def diff_html(source: SourceId, span: Span, tag: Filter = None, significance: Filter = None,
                  view: Literal["side", "inline"] = "side"):
        data = diff_data(source, span, tag, significance)
        with Session(engine) as session:
            versions = views.notice(session, source, now=settings.clock(), stale_after=settings.stale_after)["versions"]
        return page("diff.html", data=data, view=view, versions=versions,
                    title=f"{data['company']} v{data['old_version']} → v{data['new_version']}")

    @app.get("/api/notices/{source}/diff/{span}", tags=["api"], summary="Diff between two versions (JSON)")
    def diff_api(source: SourceId, span: Span, tag: Filter = None, significance: Filter = None) -> dict:
        return diff_data(source, span, tag, significance)

    @app.get("/changes/{change_id}", tags=["pages"], summary="A stored change: redirects to its diff page",
             response_class=RedirectResponse, status_code=303)
    def change_page(change_id: Annotated[int, Path(ge=1, le=MAX_INT)]):
        with Session(engine) as session:
            record = views.change_by_id(session, change_id)
        return RedirectResponse(f"/notices/{quote(record['source'])}/diff/"
                                f"{record['old_version']}..{record['new_version']}", status_code=303)

    @app.get("/api/changes/{change_id}", tags=["api"], summary="A stored change (changes --json shape)")
    def change_api(change_id: Annotated[int, Path(ge=1, le=MAX_INT)]) -> dict:
        with Session(engine) as session:
            return views.change_by_id(session, change_id)

    @app.get("/api/changes", tags=["api"], summary="Changes, oldest first (same as `changes --json`)")
    def changes_api(source: Annotated[str | None, Query(max_length=80)] = None, since: dt.date | None = None,
                    include_cosmetic: bool = True) -> dict:
        since_at = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
        with Session(engine) as session:
            records = list_changes(session, source_id=_text(source), since=since_at,
                                   include_cosmetic=include_cosmetic)
        return {"schema": CHANGES_SCHEMA, "changes": records}

    def search_data(q: str | None, source: str | None, limit: int) -> dict:
        q, source = _text(q), _text(source)
        terms = query_terms(q or "")
        hits = search(engine, q or "", source_id=source, limit=limit, backend=backend) if terms else []
        return {"q": q, "source": source, "terms": terms, "hits": [hit_dict(h, terms) for h in hits]}

    @app.get("/search", response_class=HTMLResponse, tags=["pages"], summary="Search all versions")
    def search_html(q: SearchQ = None, source: Filter = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
        return page("search.html", data=search_data(q, source, limit), title="Search")

    @app.get("/api/search", tags=["api"], summary="Search all versions (JSON)")
    def search_api(q: SearchQ = None, source: Filter = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
        return search_data(q, source, limit)

    def feed(request: Request, source: str | None) -> Response:
        with Session(engine) as session:
            if source is not None:
                views.notice(session, source, now=settings.clock(), stale_after=settings.stale_after)
            records = list_changes(session, source_id=source)
        base = str(request.base_url).rstrip("/")
        body = env.get_template("web/feed.atom").render(
            base=base, source=source, entries=feed_entries(records[-100:][::-1]),
            self_url=str(request.url), updated=(records[-1]["detected_at"] if records else views.iso_utc(
                settings.clock())))
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @app.get("/feeds/changes.atom", tags=["feeds"], summary="Atom feed of all changes", response_class=Response)
    def feed_all(request: Request):
        return feed(request, None)

    @app.get("/notices/{source}/changes.atom", tags=["feeds"], summary="Atom feed of one notice's changes",
             response_class=Response)
    def feed_notice(request: Request, source: SourceId):
        return feed(request, source)

    @app.get("/static/web.css", include_in_schema=False)
    def stylesheet():
        source, _name, _uptodate = env.loader.get_source(env, "web/static/web.css")
        return Response(source, media_type="text/css; charset=utf-8",
                        headers={"cache-control": "public, max-age=3600"})

    return app


def _warm_up(engine: Engine) -> None:
    """Build the search index and the overview's facts before the first visitor asks."""
    ensure_index(engine)
    with Session(engine) as session:
        views.overview_facts(session)


def _attachment(body: bytes, filename: str, media_type: str) -> Response:
    """Bytes for download only: never rendered by the browser as a page of ours."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(body, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{safe_name}"',
        "content-security-policy": ATTACHMENT_CSP, "x-content-type-options": "nosniff"})
