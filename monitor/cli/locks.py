"""`noticewatch unlock [SOURCE...]`: release crawl locks by hand (after a crash on another host)."""

from __future__ import annotations

import click

from monitor.cli.context import EXIT_CONFIG, Context, fail, pass_ctx
from monitor.config import ConfigError


@click.command()
@click.argument("source_ids", nargs=-1, metavar="[SOURCE...]")
@pass_ctx
def unlock(ctx: Context, source_ids: tuple[str, ...]) -> None:
    """Release the crawl locks of these sources (default: every source), whoever holds them.

    Locks of a killed process on this host are taken over by the next run anyway; this is for a
    holder on another machine that will not come back before `[schedule] lock_ttl`.
    """
    from monitor.core import iso_utc
    from monitor.store import force_release, lock_name

    try:
        sources = ctx.loaded.config.sources_named(list(source_ids), include_paused=True)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    dropped = {lock.name: lock for lock in force_release(ctx.engine, [lock_name(s.id) for s in sources])}
    for source in sources:
        lock = dropped.get(lock_name(source.id))
        if lock is None:
            if source_ids:
                click.echo(f"{source.id}: not locked")
            continue
        click.echo(f"{source.id}: released the lock held by {lock.owner} since {iso_utc(lock.acquired_at)}")
    if not dropped and not source_ids:
        click.echo("no source is locked")
