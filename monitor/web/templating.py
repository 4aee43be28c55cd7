"""The Jinja environment of the web pages: a user's template folder first, then ours.

Autoescaping is on for every HTML and XML template, so page content (hostile input) is always
escaped; templates never mark page content `|safe`.
"""

from __future__ import annotations

import os

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.core import template_dirs


def environment(user_dir: str | os.PathLike | None = None) -> Environment:
    """A Jinja environment over `template_dirs`, autoescaping HTML, XML and Atom."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs(user_dir)]),
        autoescape=select_autoescape(["html", "xml", "atom", "svg"], default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["path"] = lambda parts: " › ".join(parts or []) or "(top)"
    return env
