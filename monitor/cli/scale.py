"""Scale-mode commands: enqueue a cycle on the shared frontier, run a worker, show the fleet."""

from __future__ import annotations

import json
import uuid

import click
import redis

from monitor.cli.context import EXIT_CONFIG, EXIT_STORAGE, Context, fail, pass_ctx


def _frontier(ctx: Context):
    from monitor.fleet import Frontier

    config = ctx.loaded.config.frontier
    if config is None:
        origin = ctx.loaded.path or "noticewatch.toml"
        fail(f"{origin}: frontier: missing: this command needs a [frontier] table with `redis = \"redis://...\"`",
             EXIT_CONFIG)
    return Frontier.from_config(config)


@click.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only these sources (repeatable).")
@pass_ctx
def enqueue(ctx: Context, source_ids: tuple[str, ...]) -> None:
    """Put a cycle's sources on the shared frontier (or repair the open cycle's frontier)."""
    from monitor.config import ConfigError
    from monitor.fleet import enqueue as do_enqueue

    frontier = _frontier(ctx)
    try:
        result = do_enqueue(ctx.engine, ctx.loaded, frontier, list(source_ids) or None)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except redis.RedisError as exc:
        fail(f"frontier {ctx.loaded.config.frontier.redis}: {exc}", EXIT_STORAGE)
    click.echo(result.line())


@click.command()
@click.option("--exit-when-idle", type=float, default=0, metavar="SECONDS",
              help="Stop once the frontier has been empty this long (default: run until stopped).")
@pass_ctx
def worker(ctx: Context, exit_when_idle: float) -> None:
    """Crawl sources from the shared frontier until stopped (SIGTERM finishes the fetches in flight)."""
    from scrapy.crawler import CrawlerProcess

    from monitor.archive import Archive, ArchiveError
    from monitor.schedule import SPIDER_NAME, crawler_settings

    frontier = _frontier(ctx)
    try:
        frontier.waiting()
    except redis.RedisError as exc:
        fail(f"frontier {ctx.loaded.config.frontier.redis}: {exc}", EXIT_STORAGE)
    _ = ctx.engine
    try:
        Archive(ctx.loaded.snapshots_dir).check_writable()
    except ArchiveError as exc:
        fail(str(exc), EXIT_STORAGE)
    process = CrawlerProcess(crawler_settings(ctx.loaded, f"worker-{uuid.uuid4().hex[:8]}"))
    process.crawl(SPIDER_NAME, exit_when_idle=exit_when_idle)
    process.start()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema noticewatch.fleet/1).")
@pass_ctx
def fleet(ctx: Context, as_json: bool) -> None:
    """Show the fleet: workers seen recently, frontier length, open cycles, fetches per minute, failures."""
    from monitor.fleet import fleet_status, status_lines

    status = fleet_status(ctx.engine, ctx.loaded)
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    for line in status_lines(status):
        click.echo(line)


@click.command("migrate-storage")
@click.option("--to", "to_url", required=True, metavar="URL", help="Target database (SQLAlchemy URL).")
@click.option("--snapshots", type=click.Path(file_okay=False), default=None,
              help="Copy the snapshots to this (shared) directory too.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, help="Rows per committed batch.")
@pass_ctx
def migrate_storage(ctx: Context, to_url: str, snapshots: str | None, batch_size: int) -> None:
    """Copy this installation to another database (and snapshot directory); verified, resumable."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.archive import ArchiveError
    from monitor.config import absolute_sqlite_url
    from monitor.store import StorageError, copy_database, copy_snapshots, open_db

    try:
        target_url = absolute_sqlite_url(to_url, Path.cwd())
    except Exception:
        fail(f"--to: not a SQLAlchemy database URL: {to_url!r}", EXIT_CONFIG)
    if make_url(target_url) == make_url(ctx.loaded.database_url):
        fail("--to: that is this installation's own database", EXIT_CONFIG)
    try:
        target = open_db(target_url)
        report = copy_database(ctx.engine, target, batch=batch_size)
        if snapshots:
            copy_snapshots(ctx.engine, ctx.loaded.snapshots_dir, Path(snapshots).resolve(), report)
    except (StorageError, ArchiveError) as exc:
        fail(str(exc), EXIT_STORAGE)
    except SQLAlchemyError as exc:
        fail(f"migrate-storage: {str(exc).splitlines()[0]}", EXIT_STORAGE)
    for line in report.lines() if snapshots else report.lines()[:-1]:
        click.echo(line)
    where = f" and snapshots = \"{Path(snapshots).resolve()}\"" if snapshots else ""
    click.echo(f"copied and verified; now set [storage] database = \"{make_url(target_url)}\"{where}")


@click.group("db")
def db_group() -> None:
    """The database schema: packaged Alembic migrations, applied in place."""


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Upgrade the database schema to this noticewatch's revision (run once after installing a new version)."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store import StorageError, make_engine, upgrade

    try:
        engine = make_engine(ctx.loaded.database_url)
        before, after, repaired = upgrade(engine)  # takes the schema lock itself
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    except SQLAlchemyError as exc:
        fail(f"db upgrade: {str(exc).splitlines()[0]}", EXIT_STORAGE)
    was = " (unchanged)" if before == after else f" (was {before or 'empty'})"
    if repaired:
        click.echo(repaired)
    click.echo(f"database schema at revision {after}{was}")
