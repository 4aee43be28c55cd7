"""`noticewatch changes | history | show`: read the recorded history from the command line."""

from __future__ import annotations

import json
import sys

import click

from monitor.cli.context import EXIT_NOT_FOUND, Context, fail, parse_when, pass_ctx


@click.command()
@click.option("--source", "source_id", metavar="ID", help="Only this source.")
@click.option("--since", metavar="DATE", help="Only changes detected at or after this date/time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema in the README).")
@click.option("--all", "include_cosmetic", is_flag=True, help="Include cosmetic-only changes.")
@click.option("--min-significance", type=click.Choice(["cosmetic", "minor", "material"]), default=None,
              help="Only changes at least this significant.")
@pass_ctx
def changes(ctx: Context, source_id: str | None, since: str | None, as_json: bool, include_cosmetic: bool,
            min_significance: str | None) -> None:
    """List detected changes with the clauses added, removed and changed (cosmetic-only ones with --all)."""
    from sqlmodel import Session

    from monitor.store import CHANGES_SCHEMA, change_text_lines, list_changes

    since_at = parse_when(since, "--since")
    with Session(ctx.engine) as session:
        records = list_changes(session, source_id=source_id, since=since_at, include_cosmetic=include_cosmetic,
                               min_significance=min_significance)
    if as_json:
        click.echo(json.dumps({"schema": CHANGES_SCHEMA, "changes": records}, indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo("no changes")
        return
    for record in records:
        for line in change_text_lines(record, color=sys.stdout.isatty()):
            click.echo(line)


@click.command()
@click.argument("source_id", metavar="SOURCE")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history(ctx: Context, source_id: str, as_json: bool) -> None:
    """List the versions of a source with their times and sizes."""
    from sqlmodel import Session

    from monitor.core import iso_utc
    from monitor.store import Source, list_versions

    with Session(ctx.engine) as session:
        if session.get(Source, source_id) is None:
            fail(f"unknown source {source_id!r}", EXIT_NOT_FOUND)
        versions = list_versions(session, source_id)
    rows = [{"version": v.number, "created_at": iso_utc(v.created_at),
             "chars": v.chars, "blocks": v.block_count, "text_sha256": v.text_sha256,
             "blob_sha256": v.blob_sha256} for v in versions]
    if as_json:
        click.echo(json.dumps({"source": source_id, "versions": rows}, indent=2))
        return
    if not rows:
        click.echo(f"{source_id}: no versions yet")
    for row in rows:
        click.echo(f"v{row['version']:<4} {row['created_at']}  {row['chars']:>7} chars  {row['blocks']:>4} blocks")


@click.command()
@click.argument("source_id", metavar="SOURCE")
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
@click.option("--at", "at", metavar="DATE", help="The version that stood at this date/time.")
@pass_ctx
def show(ctx: Context, source_id: str, number: int | None, at: str | None) -> None:
    """Print a version of a notice as Markdown."""
    from sqlmodel import Session

    from monitor.store import find_version

    when = parse_when(at, "--at")
    with Session(ctx.engine) as session:
        version = find_version(session, source_id, number=number, at=when)
    if version is None:
        what = f"no version {number}" if number else (f"no version yet at {at}" if at else "no versions")
        fail(f"{source_id}: {what}", EXIT_NOT_FOUND)
    click.echo(version.markdown, nl=False)
