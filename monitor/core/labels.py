"""Human labels for stored keys (kinds, significance, date flags, topics, standings) in nl and en.

The keys stay the data (`silent_change`, `data_subject_rights`, JSON and the database keep them);
every surface shows `labels.get(group, key)` instead. The labels are data in templates/labels.toml,
and a user's templates folder may hold its own labels.toml that overrides single entries, exactly
like the digest's strings.toml. Lookup: the language, then English, then the key with spaces.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

from monitor.core.templates import shipped_templates

LABELS_FILE = "labels.toml"
LANGUAGES = ("en", "nl")


def _read(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@functools.lru_cache(maxsize=16)
def load_labels(language: str = "en", user_dir: str | os.PathLike | None = None) -> Labels:
    """The labels of one language, the user's folder overriding the shipped file entry by entry."""
    files = [shipped_templates() / LABELS_FILE]
    if user_dir and (Path(user_dir) / LABELS_FILE).is_file():
        files.append(Path(user_dir) / LABELS_FILE)
    merged: dict[str, dict[str, str]] = {}
    for lang in ("en", language) if language != "en" else ("en",):
        for path in files:
            for group, entries in _read(path).get(lang, {}).items():
                merged.setdefault(group, {}).update(entries)
    return Labels(language, merged)


class Labels:
    """`labels.get("flag", "silent_change")` → "silent change" / "stille wijziging"."""

    def __init__(self, language: str, table: dict[str, dict[str, str]]) -> None:
        self.language = language
        self.table = table

    def get(self, group: str, key: str | None) -> str:
        if key is None:
            return ""
        return self.table.get(group, {}).get(key) or str(key).replace("_", " ")

    def many(self, group: str, keys: list[str] | None) -> list[str]:
        return [self.get(group, k) for k in keys or []]

    def counts(self, counts: dict[str, int] | None) -> str:
        """Clause counts in words: "2 changed, 1 added" (not "+1 −0 ~2")."""
        templates = self.table.get("count", {})
        parts = [templates.get(kind, "{n} " + self.get("kind", kind)).format(n=n)
                 for kind, n in (counts or {}).items() if n]
        return ", ".join(parts) or templates.get("none", "no clause changes")
