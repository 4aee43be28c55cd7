"""The `noticewatch` command group: every command registered here, one line each (docs/architecture.md)."""

from __future__ import annotations

import click

from monitor import __version__
from monitor.cli import demo as demo_command
from monitor.cli import diff, digest, history, noise, reextract, run, scale, schedule, web
from monitor.cli.context import Context


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: $NOTICEWATCH_CONFIG or ./noticewatch.toml).")
@click.version_option(__version__, prog_name="noticewatch")
@click.pass_context
def main(click_ctx: click.Context, config_path: str | None) -> None:
    """Watch privacy notices and report, clause by clause, what changed."""
    click_ctx.obj = Context(config_path)


COMMANDS = (run.run, history.changes, history.history, history.show, demo_command.demo, digest.digest, web.serve,
            scale.enqueue, scale.worker, scale.fleet, scale.migrate_storage, scale.db_group, *noise.COMMANDS,
            schedule.daemon, schedule.status, diff.diff, reextract.reextract)
for _command in COMMANDS:
    main.add_command(_command)


def entrypoint() -> None:
    """The console script `noticewatch`."""
    main(prog_name="noticewatch")
