"""`noticewatch daemon` and `noticewatch status`: scheduled runs and their health.

Exit codes (besides the common ones in monitor/cli.py): `status` exits 4 when any source is stale, so
it can feed monitoring; `run` exits 75 (EX_TEMPFAIL) when every requested source is locked by another run.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import click

from monitor.cli.context import EXIT_CONFIG, EXIT_STALE, Context, fail, pass_ctx


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Also log each job's next run time at start (debug level).")
@pass_ctx
def daemon(ctx: Context, verbose: bool) -> None:
    """Run forever: crawl each source on its [schedule], catch up missed runs, stop cleanly on SIGTERM."""
    from monitor.core import setup_logging
    from monitor.schedule import Daemon

    setup_logging(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if ctx.loaded.path is None:
        fail("the daemon needs a configuration file", EXIT_CONFIG)
    sys.exit(Daemon(ctx.loaded, ctx.engine).run())


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema noticewatch.status/1).")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Per source: last fetch, last success, last change, next run, failures in a row, staleness.

    Exits 4 when any source had no successful fetch within [schedule].stale_after.
    """
    from monitor.schedule import STATUS_SCHEMA, source_statuses

    now = datetime.now(UTC)
    rows = source_statuses(ctx.engine, ctx.loaded, now)
    stale = [row.source_id for row in rows if row.stale]
    fleet = None
    if ctx.loaded.config.frontier is not None:
        from monitor.fleet import fleet_status

        fleet = fleet_status(ctx.engine, ctx.loaded)
    if as_json:
        click.echo(json.dumps({"schema": STATUS_SCHEMA, "now": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
                               "stale_after_s": ctx.loaded.config.schedule.stale_after,
                               "sources": [row.to_dict() for row in rows], "fleet": fleet}, indent=2))
    else:
        header = ("source", "last fetch", "last success", "last change", "next run (UTC)", "fails", "state")
        table = [header] + [(row.source_id, _when(row.last_fetch), _when(row.last_success), _when(row.last_change),
                             _when(row.next_run) + ("" if row.next_run_from == "daemon" else "*"),
                             str(row.consecutive_failures), row.standing.standing.value) for row in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        for line in table:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        click.echo("times UTC; * = computed from the configuration (no daemon job stored)")
        if fleet is not None:
            from monitor.fleet import status_lines

            click.echo("")
            for line in status_lines(fleet):
                click.echo(line)
        if stale:
            click.echo(f"{len(stale)} stale source(s): {', '.join(stale)}", err=True)
    if stale:
        sys.exit(EXIT_STALE)
