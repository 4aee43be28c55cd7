"""`/search`: full-text search over every clause of every version, with the words found highlighted."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from monitor.store import SearchHit, query_terms, search
from monitor.web import views
from monitor.web.context import Ctx, Filter, SearchQ, WebContext, clean_text

router = APIRouter()
HitLimit = Annotated[int, Query(ge=1, le=500)]


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
            out.append(["same", text[last : match.start()]])
        out.append(["hit", match.group(0)])
        last = match.end()
    if last < len(text):
        out.append(["same", text[last:]])
    return out


def search_data(ctx: WebContext, q: str | None, source: str | None, limit: int) -> dict:
    q, source = clean_text(q), clean_text(source)
    terms = query_terms(q or "")
    hits = search(ctx.engine, q or "", source_id=source, limit=limit, backend=ctx.backend) if terms else []
    return {"q": q, "source": source, "terms": terms, "hits": [hit_dict(h, terms) for h in hits]}


@router.get("/search", response_class=HTMLResponse, tags=["pages"], summary="Search all versions")
def search_html(ctx: Ctx, q: SearchQ = None, source: Filter = None, limit: HitLimit = 100):
    return ctx.page("search.html", data=search_data(ctx, q, source, limit), title="Search")


@router.get("/api/search", tags=["api"], summary="Search all versions (JSON)")
def search_api(ctx: Ctx, q: SearchQ = None, source: Filter = None, limit: HitLimit = 100) -> dict:
    return search_data(ctx, q, source, limit)
