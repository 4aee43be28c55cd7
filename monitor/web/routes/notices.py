"""One notice and its versions: `/notices/{source}`, a version's text, its blame, the raw snapshot."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.archive import ArchiveError
from monitor.web import views
from monitor.web.charts import date_chart
from monitor.web.context import Ctx, Number, SourceId, WebContext, attachment, page_and_api

router = APIRouter()


def notice_data(ctx: WebContext, source: str) -> dict:
    return ctx.read(views.notice, source, now=ctx.settings.clock(), stale_after=ctx.settings.stale_after)


@router.get("/notices/{source}", response_class=HTMLResponse, tags=["pages"], summary="One notice")
def notice_page(ctx: Ctx, source: SourceId):
    data = notice_data(ctx, source)
    return ctx.page("notice.html", data=data, chart=date_chart(views.date_rows(data)), title=data["company"])


@router.get("/sources/{source}", tags=["pages"], summary="Alias of /notices/{source} (digest links)",
            response_class=RedirectResponse, status_code=308)
def source_alias(source: SourceId):
    return RedirectResponse(f"/notices/{quote(source)}", status_code=308)


@router.get("/api/notices/{source}", tags=["api"], summary="One notice (JSON)")
def notice_api(ctx: Ctx, source: SourceId) -> dict:
    return notice_data(ctx, source)


@page_and_api(router, "/notices/{source}/versions/{number}", "version.html", summary="A version's text",
              title=lambda data: f"{data['company']} v{data['number']}")
def version(ctx: Ctx, source: SourceId, number: Number) -> dict:
    return ctx.read(views.version_page, source, number)


@router.get("/notices/{source}/versions/{number}/raw", tags=["pages"], summary="The raw snapshot (download)",
            response_class=Response)
def version_raw(ctx: Ctx, source: SourceId, number: Number):
    sha256 = ctx.read(views.raw_blob, source, number)
    if ctx.settings.archive is None:
        raise views.NotFound("no snapshot archive configured")
    try:
        body = ctx.settings.archive.get(sha256)
    except ArchiveError as exc:
        raise views.NotFound(str(exc)) from None
    return attachment(body, f"{source}-v{number}-{sha256[:12]}.raw", "application/octet-stream")


@router.get("/notices/{source}/versions/{number}/markdown", tags=["pages"], summary="A version as Markdown",
            response_class=Response)
def version_markdown(ctx: Ctx, source: SourceId, number: Number):
    data = ctx.read(views.version_page, source, number)
    return attachment(data["markdown"].encode("utf-8"), f"{source}-v{number}.md", "text/markdown; charset=utf-8")


@page_and_api(router, "/notices/{source}/versions/{number}/blame", "blame.html",
              summary="Clause history of a version",
              title=lambda data: f"{data['company']} v{data['number']}: clause history")
def blame(ctx: Ctx, source: SourceId, number: Number) -> dict:
    return ctx.read(views.blame_page, source, number)
