"""`noticewatch run`: one crawl cycle over every (or the named) source, under the database's crawl locks."""

from __future__ import annotations

import json
import signal
import sys

import click

from monitor.archive import ArchiveError
from monitor.cli.context import EXIT_BUSY, EXIT_CONFIG, EXIT_STORAGE, Context, fail, pass_ctx
from monitor.config import ConfigError, LoadedConfig


@click.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only these sources (repeatable).")
@click.option("--due", is_flag=True, help="Only sources whose [schedule] fired since their last fetch (for cron).")
@click.option("--json", "as_json", is_flag=True, help="Print the cycle summary as JSON.")
@click.option("--digest", "send_digests", is_flag=True, help="After the cycle, send the e-mail digests that are due.")
@pass_ctx
def run(ctx: Context, source_ids: tuple[str, ...], due: bool, as_json: bool, send_digests: bool) -> None:
    """Crawl every (or the named) source once and record what changed.

    Sources another run is crawling (a lock in the database) are skipped with a message; when every
    requested source is locked the command exits 75 (EX_TEMPFAIL).
    """
    from monitor.store import claim_sources

    loaded = ctx.loaded
    try:
        selected = loaded.config.sources_named(list(source_ids))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    _ = ctx.engine
    if send_digests:
        from monitor.cli.digest import check_mail

        check_mail(ctx)
    try:
        from monitor.archive import Archive

        Archive(loaded.snapshots_dir).check_writable()
    except ArchiveError as exc:
        fail(str(exc), EXIT_STORAGE)
    if due:
        from monitor.schedule import due_source_ids

        due_ids = set(due_source_ids(ctx.engine, loaded))
        selected = [s for s in selected if s.id in due_ids]
        if not selected:
            click.echo(json.dumps({"cycle_id": None, "sources": 0}) if as_json else "nothing due")
    if selected:
        # Until Scrapy installs its own handlers, SIGTERM unwinds normally so the locks are released.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        with claim_sources(ctx.engine, [s.id for s in selected], loaded.config.schedule.lock_ttl) as claim:
            if claim.skipped:
                click.echo(f"noticewatch: {claim.skipped_message()}", err=True)
            if not claim.held:
                fail("every requested source is being crawled by another run; try again later", EXIT_BUSY)
            summary = _crawl(loaded, claim.held, as_json)
        if as_json:
            click.echo(json.dumps({**summary.to_dict(), "skipped": {k: v.owner for k, v in claim.skipped.items()}},
                                  indent=2))
        else:
            for line in summary.lines():
                click.echo(line)
    if send_digests:
        from monitor.cli.digest import send_and_print

        send_and_print(ctx, None)


def _crawl(loaded: LoadedConfig, source_ids: list[str], as_json: bool):
    """One cycle in this process, with a progress bar on a terminal."""
    from monitor.schedule import run_cycle

    if not (sys.stderr.isatty() and not as_json):
        return run_cycle(loaded, source_ids)
    from rich.progress import Progress

    with Progress(transient=True, console=None) as progress:
        task = progress.add_task("crawling", total=len(source_ids))
        return run_cycle(loaded, source_ids, on_item=lambda _sid, _outcome: progress.advance(task))
