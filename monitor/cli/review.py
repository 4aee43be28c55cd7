"""`noticewatch review CHANGE_ID [--note]`: mark changes as assessed by the team."""

from __future__ import annotations

import getpass
import os

import click

from monitor.cli.context import EXIT_CONFIG, EXIT_NOT_FOUND, Context, fail, pass_ctx

REVIEWER_ENV = "NOTICEWATCH_REVIEWER"


def default_reviewer() -> str:
    """$NOTICEWATCH_REVIEWER, else the login name."""
    try:
        return os.environ.get(REVIEWER_ENV) or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@click.command()
@click.argument("change_ids", nargs=-1, required=True, type=int, metavar="CHANGE_ID...")
@click.option("--note", default=None, help="A short note: what it means for you (500 characters at most).")
@click.option("--by", "who", default=None, help=f"Reviewer (default: ${REVIEWER_ENV} or your login name).")
@pass_ctx
def review(ctx: Context, change_ids: tuple[int, ...], note: str | None, who: str | None) -> None:
    """Mark changes reviewed (who, when, a note); the overview and the digest show what is still open."""
    from monitor.store import UnknownChange, mark_reviewed

    for change_id in change_ids:
        try:
            done = mark_reviewed(ctx.engine, change_id, who or default_reviewer(), note)
        except UnknownChange:
            fail(f"no change {change_id} (see `noticewatch changes`)", EXIT_NOT_FOUND)
        except ValueError as exc:
            fail(f"--by: {exc}", EXIT_CONFIG)
        data = done.to_dict()
        click.echo(f"change {change_id}: reviewed by {data['reviewed_by']} at {data['reviewed_at']}"
                   + (f": {data['note']}" if data["note"] else ""))
