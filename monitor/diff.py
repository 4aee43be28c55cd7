"""Compare two Documents block by block.

First version: an ordered alignment of block texts (difflib) giving added, removed and modified
blocks. The clause-level differ of issue 4 replaces the internals; the interface stays.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from monitor.document import Block, Document


@dataclass
class ClauseChange:
    """One changed clause: `old` and/or `new` block with their positions in their documents."""

    kind: str  # added | removed | modified
    old: Block | None = None
    new: Block | None = None
    old_index: int | None = None
    new_index: int | None = None
    similarity: float | None = None

    @property
    def heading_path(self) -> tuple[str, ...]:
        block = self.new or self.old
        return block.heading_path if block else ()

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "heading_path": list(self.heading_path),
            "block_kind": (self.new or self.old).kind if (self.new or self.old) else None,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "old_text": self.old.text if self.old else None,
            "new_text": self.new.text if self.new else None,
            "similarity": self.similarity,
        }


@dataclass
class DocumentDiff:
    """All clause changes between two versions."""

    changes: list[ClauseChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict:
        return {"clauses": [c.to_dict() for c in self.changes]}


def _key(block: Block) -> tuple[str, str]:
    return (block.kind, block.text)


def diff_documents(old: Document, new: Document) -> DocumentDiff:
    """Align the blocks of `old` and `new` in order and list what was added, removed or changed."""
    a = [_key(b) for b in old.blocks]
    b = [_key(b) for b in new.blocks]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    changes: list[ClauseChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds = list(range(i1, i2))
        news = list(range(j1, j2))
        while olds and news:
            i, j = olds.pop(0), news.pop(0)
            ratio = difflib.SequenceMatcher(a=old.blocks[i].text, b=new.blocks[j].text).ratio()
            changes.append(ClauseChange("modified", old.blocks[i], new.blocks[j], i, j, round(ratio, 3)))
        changes.extend(ClauseChange("removed", old.blocks[i], None, i, None) for i in olds)
        changes.extend(ClauseChange("added", None, new.blocks[j], None, j) for j in news)
    return DocumentDiff(changes)
