"""One notice and its versions: `/notices/{source}`, a version's text, its blame, the raw snapshot."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from monitor.archive import ArchiveError
from monitor.web import views
from monitor.web.charts import date_chart
from monitor.web.context import Ctx, Number, SourceId, WebContext, attachment

router = APIRouter()


def notice_data(ctx: WebContext, source: str) -> dict:
    with Session(ctx.engine) as session:
        return views.notice(session, source, now=ctx.settings.clock(), stale_after=ctx.settings.stale_after)


@router.get("/notices/{source}", response_class=HTMLResponse, tags=["pages"], summary="One notice")
def notice_page(ctx: Ctx, source: SourceId):
    data = notice_data(ctx, source)
    return ctx.page("notice.html", data=data, chart=date_chart(views.date_rows(data)), title=data["company"])


@router.get(
    "/sources/{source}",
    tags=["pages"],
    summary="Alias of /notices/{source} (digest links)",
    response_class=RedirectResponse,
    status_code=308,
)
def source_alias(source: SourceId):
    return RedirectResponse(f"/notices/{quote(source)}", status_code=308)


@router.get("/api/notices/{source}", tags=["api"], summary="One notice (JSON)")
def notice_api(ctx: Ctx, source: SourceId) -> dict:
    return notice_data(ctx, source)


def version_data(ctx: WebContext, source: str, number: int) -> dict:
    with Session(ctx.engine) as session:
        return views.version_page(session, source, number)


@router.get(
    "/notices/{source}/versions/{number}", response_class=HTMLResponse, tags=["pages"], summary="A version's text"
)
def version_html(ctx: Ctx, source: SourceId, number: Number):
    data = version_data(ctx, source, number)
    return ctx.page("version.html", data=data, title=f"{data['company']} v{number}")


@router.get("/api/notices/{source}/versions/{number}", tags=["api"], summary="A version's text (JSON)")
def version_api(ctx: Ctx, source: SourceId, number: Number) -> dict:
    return version_data(ctx, source, number)


@router.get(
    "/notices/{source}/versions/{number}/raw",
    tags=["pages"],
    summary="The raw snapshot (download)",
    response_class=Response,
)
def version_raw(ctx: Ctx, source: SourceId, number: Number):
    with Session(ctx.engine) as session:
        sha256 = views.raw_blob(session, source, number)
    if ctx.settings.archive is None:
        raise views.NotFound("no snapshot archive configured")
    try:
        body = ctx.settings.archive.get(sha256)
    except ArchiveError as exc:
        raise views.NotFound(str(exc)) from None
    return attachment(body, f"{source}-v{number}-{sha256[:12]}.raw", "application/octet-stream")


@router.get(
    "/notices/{source}/versions/{number}/markdown",
    tags=["pages"],
    summary="A version as Markdown",
    response_class=Response,
)
def version_markdown(ctx: Ctx, source: SourceId, number: Number):
    data = version_data(ctx, source, number)
    return attachment(data["markdown"].encode("utf-8"), f"{source}-v{number}.md", "text/markdown; charset=utf-8")


def blame_data(ctx: WebContext, source: str, number: int) -> dict:
    with Session(ctx.engine) as session:
        return views.blame_page(session, source, number)


@router.get(
    "/notices/{source}/versions/{number}/blame",
    response_class=HTMLResponse,
    tags=["pages"],
    summary="Clause history of a version",
)
def blame_html(ctx: Ctx, source: SourceId, number: Number):
    data = blame_data(ctx, source, number)
    return ctx.page("blame.html", data=data, title=f"{data['company']} v{number}: clause history")


@router.get("/api/notices/{source}/versions/{number}/blame", tags=["api"], summary="Clause history (JSON)")
def blame_api(ctx: Ctx, source: SourceId, number: Number) -> dict:
    return blame_data(ctx, source, number)
