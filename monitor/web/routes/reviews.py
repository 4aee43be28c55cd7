"""Review state of a change: `/changes/{id}/review` (a form, no script) and `/api/changes/{id}/review`.

Marking needs a configured token or user (NOTICEWATCH_WEB_TOKEN / _USER): on an open loopback server
the page only shows the review. The reviewer is the basic-auth user name ("token" for the token). The
form carries a CSRF token, an HMAC of reviewer and change under a key derived from the credentials, so
another site cannot make a logged-in browser post it; the JSON twin accepts only `application/json`,
which a cross-site form cannot send.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from monitor.store import MAX_NOTE, UnknownChange, mark_reviewed, reviews_for
from monitor.web import views
from monitor.web.context import MAX_INT, Ctx, WebContext
from monitor.web.security import csrf_token, same_origin

router = APIRouter()
ChangeId = Annotated[int, Path(ge=1, le=MAX_INT)]
MAX_FORM = 4096


class ReviewIn(BaseModel):
    note: str | None = Field(default=None, max_length=MAX_NOTE)


def review_data(ctx: WebContext, change_id: int) -> dict:
    with Session(ctx.engine) as session:
        record = views.change_by_id(session, change_id)
        review = reviews_for(session, [change_id]).get(change_id)
    return {"change": {k: record[k] for k in ("id", "source", "source_name", "old_version", "new_version",
                                               "detected_at", "significance")},
            "review": review.to_dict() if review else None}


def _reviewer(ctx: WebContext, request: Request) -> str | None:
    return ctx.settings.credentials.identify(request.headers.get("authorization"))


@router.get("/changes/{change_id}/review", response_class=HTMLResponse, tags=["pages"],
            summary="A change's review state, with the form to mark it reviewed")
def review_page(ctx: Ctx, request: Request, change_id: ChangeId):
    data = review_data(ctx, change_id)
    reviewer = _reviewer(ctx, request)
    token = csrf_token(ctx.settings.credentials, reviewer, change_id) if reviewer else None
    return ctx.page("review.html", data=data, reviewer=reviewer, csrf=token,
                    can_review=ctx.settings.credentials.required, title=f"Review of change {change_id}")


@router.post("/changes/{change_id}/review", tags=["pages"], summary="Mark a change reviewed (form)",
             response_class=RedirectResponse, status_code=303)
async def review_post(ctx: Ctx, request: Request, change_id: ChangeId):
    """The form's POST (application/x-www-form-urlencoded: `csrf`, `note`), parsed here: two small fields."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM].decode("utf-8", "replace")) if len(body) <= MAX_FORM else {}
    csrf, note = (form.get("csrf") or [""])[0], (form.get("note") or [""])[0][:MAX_NOTE]
    reviewer = _reviewer(ctx, request)
    if (reviewer is None or not same_origin(request.headers)
            or not hmac.compare_digest(csrf, csrf_token(ctx.settings.credentials, reviewer, change_id))):
        return JSONResponse({"detail": "review refused: stale or foreign form (reload the page)"}, status_code=403)
    try:
        mark_reviewed(ctx.engine, change_id, reviewer, note or None, ctx.settings.clock())
    except UnknownChange:
        raise views.NotFound(f"no change {change_id}") from None
    return RedirectResponse(f"/changes/{change_id}/review", status_code=303)


@router.get("/api/changes/{change_id}/review", tags=["api"], summary="A change's review state (JSON)")
def review_api(ctx: Ctx, change_id: ChangeId) -> dict:
    return review_data(ctx, change_id)


@router.post("/api/changes/{change_id}/review", tags=["api"], summary="Mark a change reviewed (JSON)")
def review_api_post(ctx: Ctx, request: Request, change_id: ChangeId, body: ReviewIn) -> dict:
    reviewer = _reviewer(ctx, request)
    if reviewer is None:
        return JSONResponse({"detail": "reviewing needs NOTICEWATCH_WEB_TOKEN or a web user"}, status_code=403)
    try:
        mark_reviewed(ctx.engine, change_id, reviewer, body.note, ctx.settings.clock())
    except UnknownChange:
        raise views.NotFound(f"no change {change_id}") from None
    return review_data(ctx, change_id)
