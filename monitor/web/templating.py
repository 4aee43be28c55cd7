"""The Jinja environment of the web pages: a user's template folder first, then ours.

Autoescaping is on for every HTML and XML template, so page content (hostile input) is always
escaped; templates never mark page content `|safe`.
"""

from __future__ import annotations

import os
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

PACKAGE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TEMPLATES_ENV = "NOTICEWATCH_TEMPLATES"


def template_dirs(user_dir: str | os.PathLike | None) -> list[Path]:
    """Search path: the configured (or $NOTICEWATCH_TEMPLATES) folder, then the shipped templates/."""
    dirs = []
    chosen = user_dir or os.environ.get(TEMPLATES_ENV)
    if chosen:
        dirs.append(Path(chosen))
    dirs.append(PACKAGE_TEMPLATES)
    return dirs


def environment(user_dir: str | os.PathLike | None = None) -> Environment:
    """A Jinja environment over `template_dirs`, autoescaping HTML, XML and Atom."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs(user_dir)]),
        autoescape=select_autoescape(["html", "xml", "atom", "svg"], default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["path"] = lambda parts: " › ".join(parts or []) or "(top)"
    return env
