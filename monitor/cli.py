"""The `noticewatch` command line.

Exit codes: 0 the command ran (a cycle with failed sources still ran); 1 nothing found for the
request (unknown version, ...); 2 configuration or usage error; 3 storage error (database or archive).
"""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor import __version__
from monitor.archive import ArchiveError
from monitor.config import ConfigError, LoadedConfig, load_config
from monitor.db import StorageError, open_db

EXIT_NOT_FOUND, EXIT_CONFIG, EXIT_STORAGE = 1, 2, 3


def fail(message: str, code: int) -> None:
    click.echo(f"noticewatch: {message}", err=True)
    sys.exit(code)


class Context:
    """Lazily loaded configuration and database, shared by the subcommands."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._loaded: LoadedConfig | None = None
        self._engine = None

    @property
    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            try:
                self._loaded = load_config(self.config_path)
            except ConfigError as exc:
                fail(str(exc), EXIT_CONFIG)
        return self._loaded

    @property
    def engine(self):
        if self._engine is None:
            try:
                self._engine = open_db(self.loaded.database_url)
            except StorageError as exc:
                fail(str(exc), EXIT_STORAGE)
        return self._engine


pass_ctx = click.make_pass_decorator(Context)


def parse_when(value: str | None, option: str) -> datetime | None:
    """ISO dates and times (`2026-03-01`, `2026-03-01T06:00`); naive means UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option}: not an ISO date or time: {value!r} (use e.g. 2026-03-01 or 2026-03-01T06:00)",
             EXIT_CONFIG)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: $NOTICEWATCH_CONFIG or ./noticewatch.toml).")
@click.version_option(__version__, prog_name="noticewatch")
@click.pass_context
def main(click_ctx: click.Context, config_path: str | None) -> None:
    """Watch privacy notices and report, clause by clause, what changed."""
    click_ctx.obj = Context(config_path)


@main.command()
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
    from monitor.lock import EXIT_BUSY, claim_sources

    loaded = ctx.loaded
    try:
        selected = loaded.config.sources_named(list(source_ids))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    _ = ctx.engine
    if send_digests:
        from monitor.cli_digest import check_mail

        check_mail(ctx)
    try:
        from monitor.archive import Archive

        Archive(loaded.snapshots_dir).check_writable()
    except ArchiveError as exc:
        fail(str(exc), EXIT_STORAGE)
    if due:
        from monitor.status import due_source_ids

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
        from monitor.cli_digest import send_and_print

        send_and_print(ctx, None)


def _crawl(loaded: LoadedConfig, source_ids: list[str], as_json: bool):
    """One cycle in this process, with a progress bar on a terminal."""
    from monitor.cycle import run_cycle

    if not (sys.stderr.isatty() and not as_json):
        return run_cycle(loaded, source_ids)
    from rich.progress import Progress

    with Progress(transient=True, console=None) as progress:
        task = progress.add_task("crawling", total=len(source_ids))
        return run_cycle(loaded, source_ids, on_item=lambda _sid, _outcome: progress.advance(task))


@main.command()
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

    from monitor.query import CHANGES_SCHEMA, list_changes
    from monitor.render import change_text_lines

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


@main.command()
@click.argument("source_id", metavar="SOURCE")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history(ctx: Context, source_id: str, as_json: bool) -> None:
    """List the versions of a source with their times and sizes."""
    from sqlmodel import Session

    from monitor.models import Source
    from monitor.query import iso_utc, list_versions

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


@main.command()
@click.argument("source_id", metavar="SOURCE")
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
@click.option("--at", "at", metavar="DATE", help="The version that stood at this date/time.")
@pass_ctx
def show(ctx: Context, source_id: str, number: int | None, at: str | None) -> None:
    """Print a version of a notice as Markdown."""
    from sqlmodel import Session

    from monitor.query import find_version

    when = parse_when(at, "--at")
    with Session(ctx.engine) as session:
        version = find_version(session, source_id, number=number, at=when)
    if version is None:
        what = f"no version {number}" if number else (f"no version yet at {at}" if at else "no versions")
        fail(f"{source_id}: {what}", EXIT_NOT_FOUND)
    click.echo(version.markdown, nl=False)


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Keep the demo's config, database and snapshots here (default: a temporary directory).")
def demo(directory: str | None) -> None:
    """Serve the seed notices locally, crawl, edit one notice, crawl again, show the change."""
    from monitor.demo import run_demo

    sys.exit(run_demo(Path(directory) if directory else None))


# Commands of later capabilities register here, one line each (see docs/architecture.md).
from monitor import cli_noise  # noqa: E402
from monitor.cli_digest import digest  # noqa: E402

main.add_command(digest)
from monitor.cli_web import serve  # noqa: E402

main.add_command(serve)
from monitor.cli_scale import db_group, enqueue, fleet, migrate_storage, worker  # noqa: E402

for _command in (enqueue, worker, fleet, migrate_storage, db_group, *cli_noise.COMMANDS):
    main.add_command(_command)
from monitor import cli_schedule  # noqa: E402  (it imports this module's `main` helpers)

main.add_command(cli_schedule.daemon)
main.add_command(cli_schedule.status)
from monitor.cli_diff import diff as _diff_command  # noqa: E402

main.add_command(_diff_command)
from monitor.cli_reextract import reextract as _reextract_command  # noqa: E402

main.add_command(_reextract_command)
from monitor import cli_sources  # noqa: E402

for _command in cli_sources.COMMANDS:
    main.add_command(_command)
from monitor.cli_review import review as _review_command  # noqa: E402

main.add_command(_review_command)
from monitor.cli_locks import unlock as _unlock_command  # noqa: E402

main.add_command(_unlock_command)


def entrypoint() -> None:
    main(prog_name="noticewatch")


if __name__ == "__main__":
    entrypoint()
