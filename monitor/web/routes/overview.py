"""`/` and `/api/notices`: every notice with its standing, last check, last change and date statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from monitor.core import Standing
from monitor.web import views
from monitor.web.charts import sparkline
from monitor.web.context import Ctx, Limit, Offset, Order, Sort, WebContext, clean_text

router = APIRouter()
OverviewQ = Annotated[str | None, Query(max_length=200)]


def overview_data(
    ctx: WebContext, sort: str, order: str, status: str | None, q: str | None, limit: int, offset: int
) -> dict:
    with Session(ctx.engine) as session:
        data = views.overview(session, now=ctx.settings.clock(), stale_after=ctx.settings.stale_after, sort=sort,
                              descending=order == "desc", status=status, query=clean_text(q))
    data["total"] = len(data["notices"])
    data["timelines"] = {
        row["source"]: data["timelines"][row["source"]] for row in data["notices"][offset : offset + limit]
    }
    data["notices"] = data["notices"][offset : offset + limit]
    data.update(limit=limit, offset=offset, sort=sort, order=order, status=status, q=clean_text(q))
    data["fleet"] = ctx.settings.fleet() if ctx.settings.fleet is not None else None
    return data


@router.get("/", response_class=HTMLResponse, tags=["pages"], summary="Overview of every notice")
def overview_page(ctx: Ctx, sort: Sort = "company", order: Order = "asc", status: Standing | None = None,
                  q: OverviewQ = None, limit: Limit = 200, offset: Offset = 0):
    data = overview_data(ctx, sort, order, status, q, limit, offset)
    end = ctx.settings.clock().timestamp()
    for row in data["notices"]:
        first, times = data["timelines"][row["source"]]
        row["spark"] = sparkline(times, first if first is not None else end, end)
    return ctx.page("overview.html", data=data, title="Notices")


@router.get("/api/notices", tags=["api"], summary="Overview of every notice (JSON)")
def overview_api(ctx: Ctx, sort: Sort = "company", order: Order = "asc", status: Standing | None = None,
                 q: OverviewQ = None, limit: Limit = 200, offset: Offset = 0) -> dict:
    data = overview_data(ctx, sort, order, status, q, limit, offset)
    del data["timelines"]
    return data


@router.get("/static/web.css", include_in_schema=False)
def stylesheet(ctx: Ctx):
    source, _name, _uptodate = ctx.env.loader.get_source(ctx.env, "web/static/web.css")
    return Response(source, media_type="text/css; charset=utf-8", headers={"cache-control": "public, max-age=3600"})
