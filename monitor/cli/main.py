"""The `noticewatch` command group: every command registered here, one line each (docs/architecture.md)."""

from __future__ import annotations

import click

from monitor import __version__
from monitor.cli import demo as demo_command
from monitor.cli import diff, digest, history, locks, noise, reextract, review, run, scale, schedule, sources, web
from monitor.cli.context import EXIT_STORAGE, Context, fail
from monitor.core import LOG_LEVELS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: $NOTICEWATCH_CONFIG or ./noticewatch.toml).")
@click.option("-v", "--verbose", count=True, help="Log Scrapy's and our records on stderr as logfmt (-vv: debug).")
@click.option("--log-level", type=click.Choice(list(LOG_LEVELS)), default=None,
              help="Log level on stderr (default: [log] level, else quiet: only what needs a look).")
@click.version_option(__version__, prog_name="noticewatch")
@click.pass_context
def main(click_ctx: click.Context, config_path: str | None, verbose: int, log_level: str | None) -> None:
    """Watch privacy notices and report, clause by clause, what changed."""
    if log_level is None and verbose:
        log_level = "info" if verbose == 1 else "debug"
    click_ctx.obj = Context(config_path, log_level)


COMMANDS = (run.run, history.changes, history.history, history.show, demo_command.demo, digest.digest, web.serve,
            scale.enqueue, scale.worker, scale.fleet, scale.migrate_storage, scale.db_group, *noise.COMMANDS,
            schedule.daemon, schedule.status, diff.diff, reextract.reextract, *sources.COMMANDS, review.review,
            locks.unlock)
for _command in COMMANDS:
    main.add_command(_command)


def entrypoint() -> None:
    """The console script `noticewatch`: a broken database is one line and exit 3 from every command."""
    from sqlalchemy.exc import DBAPIError

    try:
        main(prog_name="noticewatch")
    except DBAPIError as exc:
        fail(f"database error: {str(exc.orig or exc).splitlines()[0]} (a damaged file? restore it from a backup, "
             "or check the server)", EXIT_STORAGE)
