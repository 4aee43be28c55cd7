"""Plain-text rendering of changes for the terminal."""

from __future__ import annotations

SYMBOLS = {"added": "+", "removed": "-", "modified": "~", "moved": ">", "split": "<", "merged": ">",
           "cosmetic": "="}


def _short(text: str | None, width: int = 240) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def change_text_lines(record: dict) -> list[str]:
    """A change as readable lines: a header, then each clause with its heading path."""
    counts = record.get("counts", {})
    lines = [f"{record['source']} ({record.get('source_name') or ''}) v{record['old_version']} → "
             f"v{record['new_version']} at {record['detected_at']}: "
             f"+{counts.get('added', 0)} -{counts.get('removed', 0)} ~{counts.get('modified', 0)}"]
    for clause in record.get("clauses", []):
        path = " › ".join(clause.get("heading_path") or []) or "(top)"
        symbol = SYMBOLS.get(clause["kind"], "?")
        lines.append(f"  {symbol} {clause['kind']} under {path}")
        if clause.get("inline_text"):
            lines.append(f"      {_short(clause['inline_text'], 600)}")
        else:
            if clause.get("old_text") is not None:
                lines.append(f"      - {_short(clause['old_text'])}")
            if clause.get("new_text") is not None:
                lines.append(f"      + {_short(clause['new_text'])}")
    return lines
