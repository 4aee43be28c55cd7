"""What every command shares: the lazily loaded configuration and database, `fail`, and every exit code.

Exit codes: 0 the command ran (a cycle with failed sources still ran); 1 nothing found for the
request (unknown version, ...); 2 configuration or usage error; 3 storage error (database or
archive); 4 a source is stale (`status`); 75 every requested source is being crawled elsewhere.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, tzinfo

import click

from monitor.config import ConfigError, LoadedConfig, load_config, parse_moment, parse_timezone
from monitor.core import ExitCode, Labels, configure_logging, load_labels
from monitor.store import StorageError, open_db

EXIT_NOT_FOUND, EXIT_CONFIG, EXIT_STORAGE = ExitCode.NOT_FOUND, ExitCode.CONFIG, ExitCode.STORAGE
EXIT_STALE, EXIT_BUSY = ExitCode.STALE, ExitCode.BUSY


def fail(message: str, code: int) -> None:
    click.echo(f"noticewatch: {message}", err=True)
    sys.exit(code)


class Context:
    """Lazily loaded configuration and database, shared by the subcommands.

    `log_level` comes from `-v` / `--log-level`; without it `[log] level` applies once the file is read.
    """

    def __init__(self, config_path: str | None, log_level: str | None = None) -> None:
        self.config_path = config_path
        self.log_level = log_level
        self._loaded: LoadedConfig | None = None
        self._engine = None
        configure_logging(log_level or "quiet")

    @property
    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            try:
                self._loaded = load_config(self.config_path)
            except ConfigError as exc:
                fail(str(exc), EXIT_CONFIG)
            if self.log_level is None and self._loaded.config.log.level != "quiet":
                configure_logging(self._loaded.config.log.level)
            for note in self._loaded.config.deprecations:
                click.echo(f"noticewatch: {note}", err=True)
        return self._loaded

    @property
    def zone(self) -> tzinfo:
        """The configured time zone ([schedule] timezone): how people mean dates and read times."""
        return parse_timezone(self.loaded.config.schedule.timezone)

    @property
    def labels(self) -> Labels:
        """Human labels in the configured language ([web] language), the user's labels.toml first."""
        web = self.loaded.config.web
        user = str(self.loaded.base_dir / web.templates) if web.templates else None
        return load_labels(web.language, user)

    def require_sources(self) -> None:
        try:
            self.loaded.require_sources()
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)

    def source_ids(self, ids: list[str] | tuple[str, ...]) -> list[str]:
        """The named sources, checked against the file: a typo is one line and exit 2, never "no changes"."""
        known = [s.id for s in self.loaded.sources]
        unknown = [i for i in ids if i not in known]
        if unknown:
            fail(f"unknown source id(s): {', '.join(unknown)} (known: {', '.join(known) or 'none'})", EXIT_CONFIG)
        return list(ids)

    @property
    def engine(self):
        if self._engine is None:
            try:
                self._engine = open_db(self.loaded.database_url)
            except StorageError as exc:
                fail(str(exc), EXIT_STORAGE)
        return self._engine


pass_ctx = click.make_pass_decorator(Context)


def parse_when(value: str | None, option: str, zone: tzinfo = UTC, *, end_of_day: bool = False) -> datetime | None:
    """ISO dates and times in the configured zone (`2026-03-01` is that day's end for --at, start for --since)."""
    if value is None:
        return None
    try:
        return parse_moment(value, zone, end_of_day=end_of_day)
    except ValueError:
        fail(f"{option}: not an ISO date or time: {value!r} (use e.g. 2026-03-01 or 2026-03-01T06:00)",
             EXIT_CONFIG)
        raise
