"""Terminal rendering of change records (the `change_record` shape) for `changes` and `diff`.

Plain output marks word edits inside a clause as ``[-old-]{+new+}`` (like `git diff --word-diff=plain`)
so it survives pipes and files; with `color` the edits are red and green instead, as on a terminal.
"""

from __future__ import annotations

import re

import click

from monitor.diff import word_diff

SYMBOLS = {"added": "+", "removed": "-", "modified": "~", "moved": ">", "split": "<", "merged": ">",
           "cosmetic": "="}
KIND_COLOURS = {"added": "green", "removed": "red", "modified": "yellow", "moved": "cyan", "split": "cyan",
                "merged": "cyan", "cosmetic": "bright_black"}
SIGNIFICANCE_COLOURS = {"material": "red", "minor": "yellow", "cosmetic": "bright_black"}


# Page text is hostile: control characters (terminal escapes) and bidi overrides never reach the terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: str | None) -> str:
    """Text from a page made harmless for a terminal (unsafe characters become U+FFFD)."""
    return _UNSAFE.sub("\ufffd", text or "")


def _short(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _style(text: str, color: bool, **styles) -> str:
    return click.style(text, **styles) if color else text


def _path(path: list[str] | None) -> str:
    return safe(" › ".join(path or [])) or "(top)"


def _counts(counts: dict) -> str:
    parts = [f"{n} {kind}" for kind, n in counts.items() if n]
    return ", ".join(parts) or "no clause changes"


def date_line(record: dict) -> str | None:
    """The notice's own date and what happened to it, e.g. `date 2020-12-22 → 2021-01-05 (date only)`."""
    old, new, flags = record.get("old_date"), record.get("new_date"), record.get("flags") or {}
    shown = [name.replace("_", " ") for name, value in flags.items() if value and name != "date_changed"]
    if flags.get("date_changed"):
        text = f"date {safe(old['display'])} → {safe(new['display'])}"
    elif new is not None:
        text = f"date {safe(new['display'])}" + (" (unchanged)" if old is not None else "")
    elif old is not None:
        text = f"date {safe(old['display'])} (statement gone)"
    else:
        text = "no date statement"
    return text + (f"; {', '.join(shown)}" if shown else "")


def _word_edits(clause: dict, color: bool) -> str:
    if not color:
        return safe(clause["inline_text"])
    out = []
    for op, text in word_diff(safe(clause.get("old_text")), safe(clause.get("new_text"))):
        if op == 0:
            out.append(text)
        elif op < 0:
            out.append(click.style(text, fg="red", strikethrough=True))
        else:
            out.append(click.style(text, fg="green", underline=True))
    return "".join(out)


def clause_lines(clause: dict, *, width: int | None = 600, color: bool = False) -> list[str]:
    """One changed clause: what happened, where, how significant, then its words."""
    kind = clause["kind"]
    head = _style(f"{SYMBOLS.get(kind, '?')} {kind}", color, fg=KIND_COLOURS.get(kind), bold=True)
    where = _path(clause.get("heading_path"))
    old_path = clause.get("old_heading_path")
    if clause.get("moved") and old_path is not None and old_path != clause.get("heading_path"):
        where = f"{_path(old_path)} → {where}"
    significance = clause.get("significance") or "material"
    tags = safe(", ".join(t for t in clause.get("tags") or [] if t != "other"))
    label = _style(significance, color, fg=SIGNIFICANCE_COLOURS.get(significance))
    lines = [f"  {head} under {where} [{label}{'; ' + tags if tags else ''}]"]
    if clause.get("inline_text") is not None:
        lines.append(f"      {_short(_word_edits(clause, color), None if color else width)}")
    else:
        if clause.get("old_text") is not None:
            lines.append("      " + _style(f"- {_short(safe(clause['old_text']), width)}", color, fg="red"))
        if clause.get("new_text") is not None:
            lines.append("      " + _style(f"+ {_short(safe(clause['new_text']), width)}", color, fg="green"))
    return lines


def change_text_lines(record: dict, *, width: int | None = 600, color: bool = False) -> list[str]:
    """A change as readable lines: a header, the date line, then each clause under its heading path."""
    significance = record.get("significance") or "no change"
    header = (f"{record['source']} ({record.get('source_name') or ''}) v{record['old_version']} → "
              f"v{record['new_version']} at {record['detected_at']}: {significance}; "
              f"{_counts(record.get('counts', {}))}")
    lines = [_style(header, color, bold=True)]
    line = date_line(record)
    if line:
        lines.append(f"  {line}")
    for clause in record.get("clauses", []):
        lines += clause_lines(clause, width=width, color=color)
    return lines
