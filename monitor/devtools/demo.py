"""`noticewatch demo`: the whole flow on a machine with no internet, in under a minute.

Serves the five seed notices on 127.0.0.1, crawls them, edits one clause of one notice on the
local site, crawls again and prints the detected change.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from sqlmodel import Session

from monitor.config import load_config
from monitor.devtools.site import NoticeSite
from monitor.schedule import run_cycle_subprocess
from monitor.store import change_text_lines, list_changes, open_db

DEMO_SOURCE = "partners4it"
DEMO_EDIT = ("We bewaren uw persoonlijke gegevens", "We bewaren uw persoonlijke gegevens, ook in de Verenigde Staten,")


def _demo_edit(site: NoticeSite) -> tuple[str, str]:
    """Edit the first paragraph that mentions keeping data; fall back to the longest paragraph."""
    text = site.pages[DEMO_SOURCE].text
    old, new = DEMO_EDIT
    if old not in text:
        old = max(text.split("\n\n"), key=len).strip()
        new = old + " Wij kunnen deze gegevens ook doorgeven aan partijen in de Verenigde Staten."
    site.edit(DEMO_SOURCE, old, new)
    return old, new


def run_demo(directory: Path | None) -> int:
    """Run the demo; return the process exit code."""
    holder = None
    if directory is None:
        holder = tempfile.TemporaryDirectory(prefix="noticewatch-demo-")
        directory = Path(holder.name)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with NoticeSite() as site:
            config_path = site.write_config(directory / "noticewatch.toml")
            click.echo(f"Serving {len(site.pages)} seed notices at {site.base_url}; working in {directory}")
            for label in ("first cycle", "second cycle"):
                if label == "second cycle":
                    old, _new = _demo_edit(site)
                    click.echo(f"\nEdited one clause of '{DEMO_SOURCE}' on the local site: {old[:70]}…")
                click.echo(f"\n== {label}")
                result = run_cycle_subprocess(config_path, timeout=300)
                click.echo(result.stdout.rstrip())
                if result.returncode != 0:
                    click.echo(result.stderr.rstrip(), err=True)
                    return result.returncode
            loaded = load_config(config_path)
            engine = open_db(loaded.database_url)
            with Session(engine) as session:
                records = list_changes(session)
            click.echo("\n== detected changes (noticewatch changes)")
            for record in records:
                for line in change_text_lines(record):
                    click.echo(line)
            click.echo(f"\nTry: noticewatch --config {config_path} changes --json"
                       if holder is None else "\n(run with --dir DIR to keep the demo's files)")
            return 0 if records else 1
    finally:
        if holder is not None:
            holder.cleanup()


if __name__ == "__main__":
    sys.exit(run_demo(None))
