"""Diffs and changes: `/notices/{source}/diff/{old}..{new}`, `/changes/{id}` (digest links), `/api/changes`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from monitor.store import CHANGES_SCHEMA, list_changes
from monitor.web import views
from monitor.web.context import MAX_INT, Ctx, Filter, SourceId, Span, WebContext, clean_text, parse_span

router = APIRouter()
VersionQ = Annotated[int, Query(ge=1, le=MAX_INT)]
ChangeId = Annotated[int, Path(ge=1, le=MAX_INT)]
View = Literal["side", "inline"]


@router.get("/notices/{source}/diff", tags=["pages"], summary="Pick two versions (redirects to the diff page)",
            response_class=RedirectResponse, status_code=303)
def diff_pick(source: SourceId, old: VersionQ, new: VersionQ, view: View = "side", tag: Annotated[str | None,
              Query(max_length=80)] = None, significance: Annotated[str | None, Query(max_length=80)] = None):
    params = urlencode({k: v for k, v in (("view", view), ("tag", clean_text(tag)), ("significance",
                       clean_text(significance))) if v and v != "side"})
    return RedirectResponse(f"/notices/{quote(source)}/diff/{old}..{new}" + (f"?{params}" if params else ""),
                            status_code=303)


def diff_data(ctx: WebContext, source: str, span: str, tag: str | None, significance: str | None) -> dict:
    old, new = parse_span(span)
    with Session(ctx.engine) as session:
        return views.diff_page(session, source, old, new, tag=clean_text(tag), significance=clean_text(significance))


@router.get("/notices/{source}/diff/{span}", response_class=HTMLResponse, tags=["pages"],
            summary="Diff between two versions")
def diff_html(ctx: Ctx, source: SourceId, span: Span, tag: Filter = None, significance: Filter = None,
              view: View = "side"):
    data = diff_data(ctx, source, span, tag, significance)
    with Session(ctx.engine) as session:
        versions = views.notice(session, source, now=ctx.settings.clock(), stale_after=ctx.settings.stale_after)[
            "versions"
        ]
    return ctx.page("diff.html", data=data, view=view, versions=versions,
                    title=f"{data['company']} v{data['old_version']} → v{data['new_version']}")


@router.get("/api/notices/{source}/diff/{span}", tags=["api"], summary="Diff between two versions (JSON)")
def diff_api(ctx: Ctx, source: SourceId, span: Span, tag: Filter = None, significance: Filter = None) -> dict:
    return diff_data(ctx, source, span, tag, significance)


@router.get("/changes/{change_id}", tags=["pages"], summary="A stored change: redirects to its diff page",
            response_class=RedirectResponse, status_code=303)
def change_page(ctx: Ctx, change_id: ChangeId):
    with Session(ctx.engine) as session:
        record = views.change_by_id(session, change_id)
    return RedirectResponse(f"/notices/{quote(record['source'])}/diff/{record['old_version']}..{record['new_version']}",
                            status_code=303)


@router.get("/api/changes/{change_id}", tags=["api"], summary="A stored change (changes --json shape)")
def change_api(ctx: Ctx, change_id: ChangeId) -> dict:
    with Session(ctx.engine) as session:
        return views.change_by_id(session, change_id)


@router.get("/api/changes", tags=["api"], summary="Changes, oldest first (same as `changes --json`)")
def changes_api(ctx: Ctx, source: Annotated[str | None, Query(max_length=80)] = None, since: dt.date | None = None,
                include_cosmetic: bool = True) -> dict:
    since_at = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    with Session(ctx.engine) as session:
        records = list_changes(session, source_id=clean_text(source), since=since_at, include_cosmetic=include_cosmetic)
    return {"schema": CHANGES_SCHEMA, "changes": records}
