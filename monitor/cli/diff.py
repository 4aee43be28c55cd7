"""`noticewatch diff SOURCE [A] [B]`: the clause diff between any two versions of a notice.

Defaults: no version given compares the last two; one version compares it with the latest. The
diff is made now with the current differ (and each version's stored date statement), so it also
works for versions that are not neighbours. Colour only when stdout is a terminal (or --color).
"""

from __future__ import annotations

import json
import sys

import click

from monitor.cli.context import EXIT_NOT_FOUND, Context, fail, pass_ctx


@click.command("diff")
@click.argument("source_id", metavar="SOURCE")
@click.argument("old_number", metavar="[A]", type=int, required=False)
@click.argument("new_number", metavar="[B]", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the diff as one change record (README schema).")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour word edits (auto: only on a terminal).")
@pass_ctx
def diff(ctx: Context, source_id: str, old_number: int | None, new_number: int | None, as_json: bool,
         color: str) -> None:
    """Print the clause diff between versions A and B of SOURCE (default: the last two)."""
    from sqlmodel import Session

    from monitor.store import CHANGES_SCHEMA, Source, change_text_lines, find_version, list_versions, versions_record

    with Session(ctx.engine) as session:
        if session.get(Source, source_id) is None:
            fail(f"unknown source {source_id!r}", EXIT_NOT_FOUND)
        if old_number is None:
            versions = list_versions(session, source_id)
            if len(versions) < 2:
                fail(f"{source_id}: {len(versions)} version(s), nothing to compare", EXIT_NOT_FOUND)
            old, new = versions[-2], versions[-1]
        else:
            old = find_version(session, source_id, number=old_number)
            new = find_version(session, source_id, number=new_number)
            for number, version in ((old_number, old), (new_number, new)):
                if version is None:
                    fail(f"{source_id}: no version {number}", EXIT_NOT_FOUND)
        record = versions_record(session, source_id, old, new)
    if as_json:
        click.echo(json.dumps({"schema": CHANGES_SCHEMA, "changes": [record]}, indent=2, ensure_ascii=False))
        return
    coloured = color == "always" or (color == "auto" and sys.stdout.isatty())
    for line in change_text_lines(record, width=None, color=coloured):
        click.echo(line, color=coloured)
    if not record["clauses"]:
        click.echo(f"  v{old.number} and v{new.number} have the same text")
