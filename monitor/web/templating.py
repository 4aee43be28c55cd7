"""The Jinja environment of the web pages: a user's template folder first, then ours.

Autoescaping is on for every HTML and XML template, so page content (hostile input) is always
escaped; templates never mark page content `|safe`.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.core import load_labels, template_dirs


def environment(user_dir: str | os.PathLike | None = None, language: str = "en", zone: str = "UTC") -> Environment:
    """A Jinja environment over `template_dirs`, autoescaping HTML, XML and Atom; `labels` for stored keys
    and `|localtime` / `|localdate` for times and days in the configured zone."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs(user_dir)]),
        autoescape=select_autoescape(["html", "xml", "atom", "svg"], default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["path"] = lambda parts: " › ".join(parts or []) or "(top)"
    env.globals["labels"] = load_labels(language, str(user_dir) if user_dir else None)
    tz = ZoneInfo(zone)
    env.filters["localtime"] = lambda value: _local(value, tz)
    env.filters["localdate"] = lambda value: _local(value, tz)[:10]
    return env


def _local(value: str | dt.datetime | None, zone: ZoneInfo) -> str:
    """`2026-12-01 07:00 CET` from a stored UTC time (ISO string or datetime); "" for none."""
    if not value:
        return ""
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
