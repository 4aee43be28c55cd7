"""`noticewatch demo`: the whole flow on a machine with no internet (the demo lives in monitor.devtools)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Keep the demo's config, database and snapshots here (default: a temporary directory).")
def demo(directory: str | None) -> None:
    """Serve the seed notices locally, crawl, edit one notice, crawl again, show the change."""
    from monitor.devtools import run_demo

    sys.exit(run_demo(Path(directory) if directory else None))
