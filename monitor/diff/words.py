"""Word-level differences inside one clause, as segments every surface can render its own way.

A segment is `(op, text)` with op `equal`, `delete`, `insert` (or `gap`: unchanged text left out,
its text the number of characters). Keeping segments rather than pre-rendered HTML lets each
template escape the text itself, so page content never reaches an e-mail or page as markup. The
difference itself is the clause differ's `monitor.diff.clauses.word_diff` (diff-match-patch over words),
so the digest shows exactly what `changes --json` reports as `inline_text`.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.diff.clauses import word_diff

EQUAL, DELETE, INSERT, GAP = "equal", "delete", "insert", "gap"
_OPS = {0: EQUAL, -1: DELETE, 1: INSERT}

Segment = tuple[str, str]


def word_segments(old: str | None, new: str | None) -> list[Segment]:
    """The word-level difference of two texts; joining equal+delete gives `old`, equal+insert `new`."""
    old, new = old or "", new or ""
    if old == new:
        return [(EQUAL, old)] if old else []
    if not old:
        return [(INSERT, new)]
    if not new:
        return [(DELETE, old)]
    return merge((_OPS[op], text) for op, text in word_diff(old, new))


def merge(segments: Iterable[Segment]) -> list[Segment]:
    """Join neighbours with the same op and drop empty segments."""
    out: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return out


def collapse(segments: list[Segment], context: int = 80) -> list[Segment]:
    """Shorten long unchanged stretches to `context` characters on each side of a change.

    A removed stretch becomes a `gap` segment holding the number of characters left out, so a
    reader sees that text was skipped and the full diff stays one link away.
    """
    out: list[Segment] = []
    last = len(segments) - 1
    for index, (op, text) in enumerate(segments):
        if op != EQUAL:
            out.append((op, text))
            continue
        keep_head = context if index > 0 else 0
        keep_tail = context if index < last else 0
        if len(text) <= keep_head + keep_tail + 20:
            out.append((op, text))
            continue
        head, tail = _cut_head(text, keep_head), _cut_tail(text, keep_tail)
        if head:
            out.append((EQUAL, head))
        out.append((GAP, str(len(text) - len(head) - len(tail))))
        if tail:
            out.append((EQUAL, tail))
    return out


def _cut_head(text: str, size: int) -> str:
    """The first `size` characters, ending at a word boundary when one is near."""
    if size <= 0:
        return ""
    cut = text.rfind(" ", size // 2, size)
    return text[: cut if cut > 0 else size]


def _cut_tail(text: str, size: int) -> str:
    if size <= 0:
        return ""
    start = len(text) - size
    cut = text.find(" ", start, start + size // 2)
    return text[(cut + 1) if cut >= 0 else start:]


def inline_text(segments: list[Segment]) -> str:
    """Plain-text rendering: `[-removed-]{+added+}`, left-out stretches as `…`."""
    parts = []
    for op, text in segments:
        if op == DELETE:
            parts.append(f"[-{text}-]")
        elif op == INSERT:
            parts.append(f"{{+{text}+}}")
        elif op == GAP:
            parts.append(" … ")
        else:
            parts.append(text)
    return "".join(parts)


def truncate(segments: list[Segment], limit: int) -> tuple[list[Segment], bool]:
    """At most `limit` characters of segments; True when something was cut off."""
    out: list[Segment] = []
    used = 0
    for op, text in segments:
        size = len(text) if op != GAP else 3
        if used + size > limit:
            room = max(0, limit - used)
            if room and op != GAP:
                out.append((op, _cut_head(text, room) or text[:room]))
            return out, True
        out.append((op, text))
        used += size
    return out, False
