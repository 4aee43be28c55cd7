"""Two Documents → clause changes: alignment (exact, cosmetic, split/merge, similar, moved), word diffs inside
a clause, the date flags (silent change, date bump, ...), topics and significance.
"""

from monitor.diff.alignment import DiffBudget, DiffBudgetExceeded
from monitor.diff.clauses import CHANGE_KINDS, FLAG_NAMES, diff_documents, inline_text, word_diff
from monitor.diff.volatile import MASK, Site, learn, mask_document, masked_sha256, merge, site_values
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
    "MASK",
    "Site",
    "Segment",
    "collapse",
    "diff_documents",
    "inline_text",
    "learn",
    "mask_document",
    "masked_sha256",
    "merge",
    "site_values",
    "truncate",
    "word_diff",
    "word_segments",
]
