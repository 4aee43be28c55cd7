"""Editing the sources of noticewatch.toml from commands, keeping the user's comments and layout.

`add`, `remove`, `pause`, `resume` and the importers change one `[[source]]` table at a time through
tomlkit, which keeps everything else byte for byte. Every edit is validated with the same loader the
other commands use before the file is replaced (temp file, fsync, rename), so an edit either yields a
configuration `noticewatch run` accepts or leaves the file as it was.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from monitor.config.settings import Config, ConfigError, SourceConfig, parse_config

# The order keys are written in, so added sources read like hand-written ones.
SOURCE_KEY_ORDER = ("id", "name", "url", "homepage", "language", "select", "remove", "render", "schedule",
                    "obey_robots", "paused")


def slug_for(url: str, name: str | None = None) -> str:
    """A source id from a name ("ACME B.V." -> "acme-b-v") or else the URL's host ("www.acme.nl" -> "acme")."""
    if name:
        base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    else:
        host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
        labels = host.split(".")
        base = labels[0] if len(labels) > 1 and len(labels[0]) > 2 else host
        base = re.sub(r"[^a-z0-9]+", "-", base).strip("-")
    return (base or "source")[:70]


def unique_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, ... whichever is free."""
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


class SourcesFile:
    """One configuration file opened for editing; `save()` validates and replaces it atomically."""

    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        if text is None:
            try:
                text = path.read_text(encoding="utf-8") if path.exists() else ""
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
        parse_config(text, str(path))  # refuse to edit a file that is already broken
        self.doc: TOMLDocument = tomlkit.parse(text)

    @property
    def _tables(self) -> AoT | None:
        tables = self.doc.get("source")
        return tables if isinstance(tables, AoT) else None

    def sources(self) -> list[Table]:
        return list(self._tables or [])

    def ids(self) -> set[str]:
        return {str(t["id"]) for t in self.sources()}

    def urls(self) -> set[str]:
        return {str(t.get("url") or t.get("homepage")) for t in self.sources()}

    def find(self, source_id: str) -> Table:
        for table in self.sources():
            if table.get("id") == source_id:
                return table
        known = ", ".join(sorted(self.ids())) or "none"
        raise ConfigError(f"{self.path}: unknown source id {source_id!r} (known: {known})")

    def add(self, fields: Mapping[str, Any]) -> str:
        """Append a `[[source]]` table; `fields` may lack `id` (made from the name or URL). Returns the id."""
        values = {k: v for k, v in fields.items() if v not in (None, [], "")}
        address = str(values.get("url") or values.get("homepage") or "")
        values.setdefault("name", (urlsplit(address).hostname or address).removeprefix("www."))
        if "id" in values:
            if values["id"] in self.ids():
                raise ConfigError(f"{self.path}: source id {values['id']!r} already exists")
        else:
            values["id"] = unique_id(slug_for(address, fields.get("name")), self.ids())
        table = tomlkit.table()
        for key in sorted(values, key=lambda k: SOURCE_KEY_ORDER.index(k) if k in SOURCE_KEY_ORDER else 99):
            table.add(key, values[key])
        if self.doc.body and not self.doc.as_string().endswith("\n\n"):
            table.trivia.indent = "\n"  # a blank line before `[[source]]`, which leaves with the table
        if self._tables is None:
            self.doc.append("source", tomlkit.aot())
        self._tables.append(table)
        return str(values["id"])

    def remove(self, source_id: str) -> None:
        table = self.find(source_id)
        tables = self._tables
        assert tables is not None
        index = next(i for i, t in enumerate(tables) if t is table or t.get("id") == source_id)
        last = index == len(tables) - 1
        del tables[index]
        if not len(tables):
            del self.doc["source"]
        if last:  # the blank line `add` put before the table goes with it
            _trim_blank_tail(tables[-1].value if len(tables) else self.doc)

    def set_paused(self, source_id: str, paused: bool) -> bool:
        """Pause or resume; False when the source already was in that state."""
        table = self.find(source_id)
        if bool(table.get("paused", False)) == paused:
            return False
        if paused:
            # After the table's last key, not after the comments and blank lines that end it.
            body = table.value.body
            tail = []
            while body and body[-1][0] is None:
                tail.insert(0, body.pop())
            table["paused"] = True
            body.extend(tail)
        else:
            del table["paused"]
        return True

    def validate(self) -> Config:
        return parse_config(self.doc.as_string(), str(self.path))

    def save(self) -> Config:
        """Validate the edited text, then replace the file atomically (the old one stays on any error)."""
        text = self.doc.as_string()
        config = parse_config(text, str(self.path))
        directory = self.path.parent if str(self.path.parent) else Path(".")
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return config


def _trim_blank_tail(container: Container) -> None:
    body = container.body
    while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace):
        body.pop()


def source_fields(source: SourceConfig) -> dict[str, Any]:
    """A source as the keys a user would write: defaults left out."""
    defaults = {name: field.default for name, field in SourceConfig.model_fields.items()}
    data = source.model_dump()
    return {k: data[k] for k in SOURCE_KEY_ORDER + tuple(data) if k in data and data[k] != defaults.get(k)
            and data[k] not in (None, [])} | {"id": source.id, "name": source.name}


def export_toml(sources: Iterable[SourceConfig]) -> str:
    """The sources as `[[source]]` tables, ready to paste into another noticewatch.toml."""
    doc = tomlkit.document()
    tables = tomlkit.aot()
    for source in sources:
        table = tomlkit.table()
        fields = source_fields(source)
        for key in sorted(fields, key=lambda k: SOURCE_KEY_ORDER.index(k) if k in SOURCE_KEY_ORDER else 99):
            table.add(key, fields[key])
        tables.append(table)
    doc.append("source", tables)
    return doc.as_string()
