"""`noticewatch add / remove / pause / resume / import / export`: sources without hand-editing the TOML."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from monitor.cli.context import EXIT_CONFIG, Context, fail, pass_ctx
from monitor.config import (
    ConfigError,
    ImportedEntry,
    ImportFormatError,
    SourcesFile,
    export_toml,
    find_config_path,
    from_changedetection,
    from_urlwatch,
    load_config,
    to_urlwatch,
)


def _open(ctx: Context) -> SourcesFile:
    try:
        return SourcesFile(find_config_path(ctx.config_path))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
        raise  # unreachable: fail exits


def _save(edit: SourcesFile) -> None:
    try:
        edit.save()
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@click.command()
@click.argument("url")
@click.option("--name", help="Display name (default: the host name).")
@click.option("--id", "source_id", help="Source id (default: made from the name or host).")
@click.option("--language", help="The notice's language: nl, en, de or fr.")
@click.option("--homepage", is_flag=True, help="URL is a home page: discover the privacy notice from it.")
@click.option("--browser", is_flag=True, help="Fetch with the browser (script-rendered notices).")
@pass_ctx
def add(ctx: Context, url: str, name: str | None, source_id: str | None, language: str | None, homepage: bool,
        browser: bool) -> None:
    """Add a source to the configuration file (comments and layout are kept)."""
    edit = _open(ctx)
    if url in edit.urls():
        fail(f"{url} is already watched", EXIT_CONFIG)
    fields = {"id": source_id, "name": name, "homepage" if homepage else "url": url, "language": language,
              "render": "browser" if browser else None}
    try:
        new_id = edit.add(fields)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    _save(edit)
    click.echo(f"added {new_id}: {url}")


@click.command()
@click.argument("source_ids", nargs=-1, required=True, metavar="SOURCE...")
@pass_ctx
def remove(ctx: Context, source_ids: tuple[str, ...]) -> None:
    """Remove sources from the configuration file (their history stays in the database)."""
    edit = _open(ctx)
    try:
        for source_id in source_ids:
            edit.remove(source_id)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    _save(edit)
    for source_id in source_ids:
        click.echo(f"removed {source_id} (its history stays in the database)")


def _pause_command(paused: bool) -> click.Command:
    verb = "paused" if paused else "resumed"

    @click.argument("source_ids", nargs=-1, required=True, metavar="SOURCE...")
    @pass_ctx
    def command(ctx: Context, source_ids: tuple[str, ...]) -> None:
        edit = _open(ctx)
        try:
            changed = [edit.set_paused(source_id, paused) for source_id in source_ids]
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        _save(edit)
        for source_id, did in zip(source_ids, changed, strict=True):
            click.echo(f"{verb} {source_id}" if did else f"{source_id} was already {verb}")

    command.__doc__ = ("Stop crawling sources (kept in the file and history; `resume` undoes it)." if paused
                       else "Crawl paused sources again.")
    return click.command("pause" if paused else "resume")(command)


pause, resume = _pause_command(True), _pause_command(False)


def _apply(edit: SourcesFile, entries: list[ImportedEntry], dry_run: bool) -> None:
    """Add each mappable entry (one by one, so a bad one is reported and the rest still land) and report."""
    added = skipped = 0
    for entry in entries:
        if entry.fields is None:
            click.echo(f"skipped {entry.label}: {'; '.join(entry.notes)}")
            skipped += 1
            continue
        address = entry.fields.get("url")
        if address in edit.urls():
            click.echo(f"skipped {entry.label}: {address} is already watched")
            skipped += 1
            continue
        source_id = edit.add(entry.fields)  # importers give no id, so this picks a free one
        try:
            edit.validate()
        except ConfigError as exc:
            edit.remove(source_id)
            click.echo(f"skipped {entry.label}: {str(exc).split(': ', 1)[-1]}")
            skipped += 1
            continue
        added += 1
        click.echo(f"added {source_id}: {address}")
        for note in entry.notes:
            click.echo(f"  not mapped: {note}")
    notes = sum(len(e.notes) for e in entries if e.fields is not None)
    click.echo(f"{'would import' if dry_run else 'imported'} {added} of {len(entries)} "
               f"({skipped} skipped, {notes} settings not mapped)")
    if added and not dry_run:
        _save(edit)


@click.group("import")
def import_group() -> None:
    """Bring watch lists from urlwatch or changedetection.io into the configuration file."""


def _import_command(name: str, metavar: str, doc: str, read: Callable[[Path], list],
                    errors: tuple[type[Exception], ...]) -> click.Command:
    """One `import` subcommand: read a peer's file into entries, then add them as `add` would."""

    @import_group.command(name, help=doc)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar=metavar)
    @click.option("--dry-run", is_flag=True, help="Report what would be imported; leave the file alone.")
    @pass_ctx
    def command(ctx: Context, path: Path, dry_run: bool) -> None:
        try:
            entries = read(path)
        except errors as exc:
            fail(f"{path}: {exc}", EXIT_CONFIG)
        _apply(_open(ctx), entries, dry_run)

    return command


import_urlwatch = _import_command(
    "urlwatch", "URLS.yaml",
    "Import urlwatch jobs (url, name, css filters -> select/remove); reports what could not map.",
    lambda path: from_urlwatch(path.read_text(encoding="utf-8")), (ImportFormatError, OSError, UnicodeDecodeError))
import_changedetection = _import_command(
    "changedetection", "BACKUP.zip|.json",
    "Import changedetection.io watches (url, title, include/subtractive CSS filters, paused).",
    from_changedetection, (ImportFormatError,))


@click.command()
@click.option("--format", "fmt", type=click.Choice(["toml", "urlwatch"]), default="toml",
              help="toml: [[source]] tables; urlwatch: a urls.yaml that urlwatch (and `import urlwatch`) reads.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@click.option("--include-paused/--active-only", default=True, help="Also write paused sources (default).")
@pass_ctx
def export(ctx: Context, fmt: str, output: Path | None, include_paused: bool) -> None:
    """Write the sources back out."""
    try:
        config = load_config(ctx.config_path).config
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    sources = config.sources_named(None, include_paused=include_paused)
    text = export_toml(sources) if fmt == "toml" else to_urlwatch(sources)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(sources)} sources to {output}", err=True)


