"""What every route shares: the app's engine, settings, Jinja environment and search backend, the path and
query types, and small helpers (a page, an attachment, a version span, control-free query text)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.archive import Archive
from monitor.config import ScheduleConfig
from monitor.store import SearchBackend
from monitor.web import views
from monitor.web.security import ATTACHMENT_CSP, AllowedHosts, Credentials

MAX_INT = 2**31 - 1
SourceId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80, description="source id")]
Number = Annotated[int, Path(ge=1, le=MAX_INT, description="version number")]
Span = Annotated[str, Path(pattern=r"^[0-9]{1,9}\.\.[0-9]{1,9}$", description="`old..new` version numbers")]
Sort = Literal["significance", "company", "status", "last_check", "last_change", "versions", "unreviewed"]
Order = Literal["asc", "desc"]
Limit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
Filter = Annotated[str | None, Query(max_length=80)]
SearchQ = Annotated[str | None, Query(max_length=500)]
SPAN = re.compile(r"^([0-9]{1,9})\.\.([0-9]{1,9})$")
T = TypeVar("T")
DEFAULT_STALE_AFTER = dt.timedelta(seconds=ScheduleConfig().stale_after)  # the one staleness rule's default


class WebSettings:
    """What the app needs besides the database: archive, clock, staleness, templates, credentials."""

    def __init__(self, *, archive: Archive | None = None, clock: Callable[[], dt.datetime] | None = None,
                 stale_after: dt.timedelta = DEFAULT_STALE_AFTER, templates: str | None = None,
                 credentials: Credentials | None = None, index_on_start: bool = False,
                 fleet: Callable[[], dict] | None = None, language: str = "en", timezone: str = "UTC",
                 allowed_hosts: AllowedHosts | None = None) -> None:
        self.archive = archive
        self.fleet = fleet  # scale mode: the fleet's state (monitor.fleet.state) for the overview
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stale_after = stale_after
        self.templates = templates
        self.credentials = credentials or Credentials()
        self.index_on_start = index_on_start
        self.language = language  # of the labels ([web] language)
        self.timezone = timezone  # times on the pages ([schedule] timezone); JSON stays UTC
        self.allowed_hosts = allowed_hosts  # None: no Host check (tests, embedding); `serve` always sets it


@dataclass
class WebContext:
    """The app's shared state, on `app.state.web`; routes receive it through `Depends(web_context)`."""

    engine: Engine
    settings: WebSettings
    env: Environment
    backend: SearchBackend

    def read(self, view: Callable[..., T], *args, **kwargs) -> T:
        """`view(session, *args, **kwargs)` in a session of its own (every view in monitor/web/views.py)."""
        with Session(self.engine) as session:
            return view(session, *args, **kwargs)

    def page(self, template: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(f"web/{template}").render(**context), status_code=status_code)


def web_context(request: Request) -> WebContext:
    return request.app.state.web


Ctx = Annotated[WebContext, Depends(web_context)]  # a route's parameter `ctx: Ctx` receives the app's context


def clean_text(value: str | None) -> str | None:
    """Query text without NUL and other control characters (PostgreSQL rejects NUL)."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch >= " " or ch in "\t\n") or None


def parse_span(span: str) -> tuple[int, int]:
    match = SPAN.match(span)
    if not match:
        raise views.NotFound(f"not a version span: {span!r} (use old..new, e.g. 1..2)")
    old, new = int(match.group(1)), int(match.group(2))
    if not (1 <= old <= MAX_INT and 1 <= new <= MAX_INT):
        raise views.NotFound(f"no versions {span}")
    return old, new


def attachment(body: bytes, filename: str, media_type: str) -> Response:
    """Bytes for download only: never rendered by the browser as a page of ours."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(body, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{safe_name}"',
        "content-security-policy": ATTACHMENT_CSP, "x-content-type-options": "nosniff"})


def page_and_api(router: APIRouter, path: str, template: str, *, summary: str,
                 title: Callable[[dict], str]) -> Callable:
    """Register a data function twice: as the HTML page at `path` and as its JSON twin at `/api` + `path`."""
    def register(data: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(data)
        def html_page(*args, **kwargs) -> HTMLResponse:
            found = data(*args, **kwargs)
            return kwargs["ctx"].page(template, data=found, title=title(found))

        router.get(path, response_class=HTMLResponse, tags=["pages"], summary=summary)(html_page)
        router.get("/api" + path, tags=["api"], summary=f"{summary} (JSON)")(data)
        return data

    return register
