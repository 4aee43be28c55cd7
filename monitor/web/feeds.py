"""Atom feed entries for changes: one entry per stored change, linking to its diff page.

Readers and chat integrations show the title and a plain-text summary; the entry content is text
(never HTML), so nothing from a notice can run in a reader.
"""

from __future__ import annotations

from urllib.parse import quote

from monitor.store import change_text_lines


def feed_entries(records: list[dict]) -> list[dict]:
    """Entries (newest first as given) from `changes --json` records."""
    entries = []
    for record in records:
        counts = record.get("counts", {})
        title = (f"{record.get('source_name') or record['source']}: v{record['old_version']} → "
                 f"v{record['new_version']} (+{counts.get('added', 0)} -{counts.get('removed', 0)} "
                 f"~{counts.get('modified', 0)}, {record.get('significance') or 'change'})")
        entries.append({
            "id": f"urn:noticewatch:change:{record['source']}:{record['old_version']}..{record['new_version']}",
            "title": title, "updated": record["detected_at"],
            "path": f"/notices/{quote(record['source'])}/diff/{record['old_version']}..{record['new_version']}",
            "change_path": f"/changes/{record['id']}", "summary": "\n".join(change_text_lines(record)),
        })
    return entries
