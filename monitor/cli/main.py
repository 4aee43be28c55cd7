"""The `noticewatch` command group: every command registered here, one line each (docs/architecture.md).

A command's module is imported only when that command runs (or `--help` lists them all), so
`noticewatch run` does not pay for the web server's, the fleet's or the importers' dependencies.
"""

from __future__ import annotations

import importlib

import click

from monitor import __version__
from monitor.cli.context import EXIT_STORAGE, Context, fail
from monitor.core import LOG_LEVELS

#: Command name -> "module:attribute" under monitor.cli (click's lazily loaded subcommands).
COMMANDS = {
    "run": "run:run", "changes": "history:changes", "history": "history:history", "show": "history:show",
    "demo": "demo:demo", "digest": "digest:digest", "serve": "web:serve", "enqueue": "scale:enqueue",
    "worker": "scale:worker", "fleet": "scale:fleet", "migrate-storage": "scale:migrate_storage",
    "db": "scale:db_group", "rules": "noise:rules", "evaluate": "noise:evaluate", "daemon": "schedule:daemon",
    "status": "schedule:status", "diff": "diff:diff", "reextract": "reextract:reextract", "add": "sources:add",
    "remove": "sources:remove", "pause": "sources:pause", "resume": "sources:resume",
    "import": "sources:import_group", "export": "sources:export", "review": "review:review", "unlock": "locks:unlock",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (the pattern of click's documentation)."""

    def __init__(self, *args, lazy_subcommands: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_subcommands:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy_subcommands[cmd_name].split(":")
        return getattr(importlib.import_module(f"monitor.cli.{module}"), attribute)


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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


def entrypoint() -> None:
    """The console script `noticewatch`: a broken database is one line and exit 3 from every command."""
    from sqlalchemy.exc import DBAPIError

    try:
        main(prog_name="noticewatch")
    except DBAPIError as exc:
        fail(f"database error: {str(exc.orig or exc).splitlines()[0]} (a damaged file? restore it from a backup, "
             "or check the server)", EXIT_STORAGE)
