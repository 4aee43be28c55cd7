"""`noticewatch serve`: the read-only history browser over the database and archive."""

from __future__ import annotations

import datetime as dt
import errno
import socket

import click

from monitor.cli.context import EXIT_CONFIG, Context, fail, pass_ctx


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: [web] port, 8080).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the history browser: pages, JSON API (/openapi.json) and Atom feeds; read-only.

    Listening beyond 127.0.0.1 needs NOTICEWATCH_WEB_TOKEN or NOTICEWATCH_WEB_USER and
    NOTICEWATCH_WEB_PASSWORD in the environment.
    """
    import uvicorn

    from monitor.archive import Archive
    from monitor.web import UnsafeBinding, WebSettings, allowed_hosts_for, create_app, credentials_for

    loaded = ctx.loaded
    web = loaded.config.web
    host = host or web.host
    port = web.port if port is None else port
    try:
        credentials = credentials_for(host)
    except UnsafeBinding as exc:
        fail(str(exc), EXIT_CONFIG)
    templates = None
    if web.templates:
        base = loaded.path.parent if loaded.path else None
        templates = str(base / web.templates) if base else web.templates
    stale_after = dt.timedelta(seconds=loaded.config.schedule.stale_after)
    settings = WebSettings(archive=Archive(loaded.snapshots_dir), stale_after=stale_after,
                           templates=templates, credentials=credentials, index_on_start=True,
                           fleet=_fleet_view(ctx), language=web.language,
                           timezone=loaded.config.schedule.timezone,
                           allowed_hosts=allowed_hosts_for(host, web.allowed_hosts))
    app = create_app(ctx.engine, settings)
    sock = _listen(host, port)  # before saying "serving": a busy port is one line, not a traceback
    click.echo(f"noticewatch: serving http://{host}:{sock.getsockname()[1]}/ (read-only; Ctrl-C stops)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", server_header=False))
    server.run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or one line and exit 2 (port in use, address not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = "the port is in use (another `serve`?); use --port" if exc.errno == errno.EADDRINUSE else \
            (exc.strerror or str(exc))
        fail(f"serve: cannot listen on {host}:{port}: {reason}", EXIT_CONFIG)
    sock.set_inheritable(True)
    return sock


def _fleet_view(ctx):
    """In scale mode the overview shows the fleet (workers, frontier, pace, failing hosts)."""
    if ctx.loaded.config.frontier is None:
        return None
    from monitor.fleet import fleet_status

    return lambda: fleet_status(ctx.engine, ctx.loaded)
