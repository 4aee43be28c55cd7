"""What every command shares: the lazily loaded configuration and database, `fail`, and every exit code.

Exit codes: 0 the command ran (a cycle with failed sources still ran); 1 nothing found for the
request (unknown version, ...); 2 configuration or usage error; 3 storage error (database or
archive); 4 a source is stale (`status`); 75 every requested source is being crawled elsewhere.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from monitor.config import ConfigError, LoadedConfig, load_config
from monitor.core import ExitCode
from monitor.store import StorageError, open_db

EXIT_NOT_FOUND, EXIT_CONFIG, EXIT_STORAGE = ExitCode.NOT_FOUND, ExitCode.CONFIG, ExitCode.STORAGE
EXIT_STALE, EXIT_BUSY = ExitCode.STALE, ExitCode.BUSY


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
