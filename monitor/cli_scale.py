"""Scale-mode commands: enqueue a cycle on the shared frontier, run a worker, show the fleet."""

from __future__ import annotations

import json
import uuid

import click
import redis

from monitor.cli import EXIT_CONFIG, EXIT_STORAGE, Context, fail, pass_ctx


def _frontier(ctx: Context):
    from monitor.frontier import Frontier

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
    from monitor.enqueue import enqueue as do_enqueue

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
    from monitor.cycle import crawler_settings

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
    from crawler.spiders.notices import NoticesSpider  # after the reactor is installed by CrawlerProcess

    process.crawl(NoticesSpider, exit_when_idle=exit_when_idle)
    process.start()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema noticewatch.fleet/1).")
@pass_ctx
def fleet(ctx: Context, as_json: bool) -> None:
    """Show the fleet: workers seen recently, frontier length, open cycles, fetches per minute, failures."""
    from monitor.fleet_status import fleet_status, status_lines

    status = fleet_status(ctx.engine, ctx.loaded)
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    for line in status_lines(status):
        click.echo(line)
