"""`noticewatch reextract [--source ID] [--dry-run]`: rebuild versions and changes from the archive."""

from __future__ import annotations

import json

import click

from monitor.cli.context import EXIT_CONFIG, EXIT_STORAGE, Context, fail, pass_ctx
from monitor.config import ConfigError


@click.command("reextract")
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only these sources (repeatable).")
@click.option("--dry-run", is_flag=True, help="Report what would differ; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def reextract(ctx: Context, source_ids: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Rebuild versions and changes from the raw snapshots with the current extractor and differ.

    Raw snapshots and fetch rows are only read. Each source is rebuilt in one transaction; a source
    whose snapshots cannot be read is left as it was and the command exits 3.
    """
    from monitor.store import reextract as rebuild

    loaded = ctx.loaded
    try:
        loaded.config.sources_named(list(source_ids))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    reports = rebuild(ctx.engine, loaded, list(source_ids), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "sources": [r.to_dict() for r in reports]}, indent=2))
    else:
        if dry_run:
            click.echo("dry run: nothing was changed")
        for report in reports:
            for line in report.lines():
                click.echo(line)
    if any(r.error for r in reports):
        raise SystemExit(EXIT_STORAGE)
