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

import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.core import Standing
from monitor.store import backend_for, ensure_index
from monitor.web import views
from monitor.web.context import WebContext, WebSettings
from monitor.web.routes import ROUTERS
from monitor.web.security import SecurityMiddleware
from monitor.web.templating import environment


def create_app(engine: Engine, settings: WebSettings | None = None) -> FastAPI:
    """The ASGI app over `engine` (and the archive in `settings`): the routes of monitor/web/routes/."""
    settings = settings or WebSettings()
    env = environment(settings.templates, settings.language, settings.timezone)
    env.globals["standings"] = [standing.value for standing in Standing]

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings.index_on_start:
            threading.Thread(target=_warm_up, args=(engine,), name="warm-up", daemon=True).start()
        yield

    app = FastAPI(title="noticewatch history", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Read-only history of watched privacy notices. Every page has a JSON twin "
                              "under /api with the same data; changes use the `noticewatch.changes/2` shape.")
    app.add_middleware(SecurityMiddleware, credentials=settings.credentials, allowed_hosts=settings.allowed_hosts)
    views.ensure_read_indexes(engine)
    app.state.web = context = WebContext(engine=engine, settings=settings, env=env, backend=backend_for(engine))

    @app.exception_handler(views.NotFound)
    async def not_found(request: Request, exc: views.NotFound):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return context.page("error.html", 404, message=str(exc), title="Not found")

    for router in ROUTERS:
        app.include_router(router)
    return app


def _warm_up(engine: Engine) -> None:
    """Build the search index and the overview's facts before the first visitor asks."""
    ensure_index(engine)
    with Session(engine) as session:
        views.overview_facts(session)
