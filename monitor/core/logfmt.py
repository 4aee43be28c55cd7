"""Structured, greppable log lines on stderr: `ts=… level=info event=cycle_done cycle=… fetched=5`.

A long-running daemon is read by `grep event=cycle_failed` and by log shippers, so every line is one
event with key=value fields (logfmt). Our events pass their fields as `extra={"fields": {...}}` (see
`log_event`); records of libraries (APScheduler) become `event=<logger> msg="…"`.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+@,")


def format_value(value: Any) -> str:
    """A logfmt value: bare when safe, else double-quoted with escapes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        value = f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    text = str(value)
    if text and all(ch in _BARE for ch in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    """One line per record: ts, level, event, then the record's fields in the order given."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        parts = [f"ts={ts}", f"level={record.levelname.lower()}"]
        if fields:
            parts.append(f"event={format_value(record.getMessage())}")
        else:
            parts += [f"event={format_value(record.name)}", f"msg={format_value(record.getMessage())}"]
        parts += [f"{key}={format_value(value)}" for key, value in fields.items()]
        if record.exc_info:
            parts.append(f"error={format_value(self.formatException(record.exc_info).splitlines()[-1])}")
        return " ".join(parts)


def setup_logging(level: int = logging.INFO) -> None:
    """Send every logger's records to stderr as logfmt lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields."""
    logger.log(level, event, extra={"fields": fields})
