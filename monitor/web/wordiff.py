"""Word-level differences inside one clause, as segments a template renders (never raw HTML).

diff-match-patch works on characters; words are mapped to single characters first (its
line-mode trick applied to words) so highlights fall on whole words, then cleaned up
semantically so a reader sees "<del>two</del><ins>three</ins> years", not letter soup.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
OPS = {-1: "del", 0: "same", 1: "ins"}


def _encode(tokens: list[str], table: dict[str, str], order: list[str]) -> str:
    out = []
    for token in tokens:
        if token not in table:
            table[token] = chr(0xE000 + len(order)) if len(order) < 6400 else chr(0xF0000 + len(order) - 6400)
            order.append(token)
        out.append(table[token])
    return "".join(out)


def word_segments(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """[(op, text)] with op in same | del | ins; concatenating same+del gives `old`, same+ins `new`."""
    old, new = old or "", new or ""
    table: dict[str, str] = {}
    order: list[str] = []
    a = _encode(TOKEN.findall(old), table, order)
    b = _encode(TOKEN.findall(new), table, order)
    engine = diff_match_patch()
    engine.Diff_Timeout = 1.0
    diffs = engine.diff_main(a, b, False)
    engine.diff_cleanupSemantic(diffs)
    index = {char: token for token, char in table.items()}
    segments: list[tuple[str, str]] = []
    for op, chars in diffs:
        piece = "".join(index[c] for c in chars)
        if segments and segments[-1][0] == OPS[op]:
            segments[-1] = (OPS[op], segments[-1][1] + piece)
        elif piece:
            segments.append((OPS[op], piece))
    return segments


def side(segments: list[tuple[str, str]], which: str) -> list[tuple[str, str]]:
    """The segments of one side: `old` keeps same+del, `new` keeps same+ins."""
    drop = "ins" if which == "old" else "del"
    return [(op, piece) for op, piece in segments if op != drop]
