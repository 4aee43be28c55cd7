"""Atom feeds of changes: all notices, and one notice's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from monitor.core import iso_utc
from monitor.store import list_changes
from monitor.web import views
from monitor.web.context import Ctx, SourceId, WebContext
from monitor.web.feeds import feed_entries

router = APIRouter()


def feed(ctx: WebContext, request: Request, source: str | None) -> Response:
    with Session(ctx.engine) as session:
        if source is not None:
            views.notice(session, source, now=ctx.settings.clock(), stale_after=ctx.settings.stale_after)
        records = list_changes(session, source_id=source)
    body = ctx.env.get_template("web/feed.atom").render(
        base=str(request.base_url).rstrip("/"),
        source=source,
        entries=feed_entries(records[-100:][::-1]),
        self_url=str(request.url),
        updated=records[-1]["detected_at"] if records else iso_utc(ctx.settings.clock()),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/feeds/changes.atom", tags=["feeds"], summary="Atom feed of all changes", response_class=Response)
def feed_all(ctx: Ctx, request: Request):
    return feed(ctx, request, None)


@router.get("/notices/{source}/changes.atom", tags=["feeds"], summary="Atom feed of one notice's changes",
            response_class=Response)
def feed_notice(ctx: Ctx, request: Request, source: SourceId):
    return feed(ctx, request, source)
