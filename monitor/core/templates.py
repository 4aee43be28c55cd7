"""Where the Jinja templates are: a user's folder first (overriding single files), then the shipped ones.

The shipped templates (templates/ in the repository) are package data of `monitor.templates`, so a
wheel installed anywhere finds them through importlib.resources, exactly as an editable checkout does.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

TEMPLATES_ENV = "NOTICEWATCH_TEMPLATES"


def shipped_templates() -> Path:
    """The folder of the templates shipped with noticewatch."""
    return Path(str(resources.files("monitor.templates")))


def template_dirs(user_dir: str | os.PathLike | None = None) -> list[Path]:
    """Search path: the configured (or $NOTICEWATCH_TEMPLATES) folder, then the shipped templates."""
    chosen = user_dir or os.environ.get(TEMPLATES_ENV)
    return ([Path(chosen)] if chosen else []) + [shipped_templates()]
