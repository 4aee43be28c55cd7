"""Two Documents → clause changes: alignment (exact, cosmetic, split/merge, similar, moved), word diffs inside
a clause, the date flags (silent change, date bump, ...), topics and significance.
"""

from monitor.diff.alignment import DiffBudget, DiffBudgetExceeded
from monitor.diff.clauses import CHANGE_KINDS, FLAG_NAMES, diff_documents, inline_text, word_diff
from monitor.diff.words import DELETE, EQUAL, GAP, INSERT, Segment, collapse, truncate, word_segments

__all__ = [
    "CHANGE_KINDS",
    "DiffBudget",
    "DiffBudgetExceeded",
    "DELETE",
    "EQUAL",
    "GAP",
    "INSERT",
    "FLAG_NAMES",
    "Segment",
    "collapse",
    "diff_documents",
    "inline_text",
    "truncate",
    "word_diff",
    "word_segments",
]
