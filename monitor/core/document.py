"""The extracted form of a notice: ordered blocks with their heading path.

A `Document` is what every stage after extraction works on (dates, diff, store, digest, web).
It is plain data, serialisable to JSON so versions can be stored and rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

BLOCK_KINDS = ("heading", "paragraph", "list_item", "table_row", "definition")


@dataclass(frozen=True)
class Block:
    """One clause-sized unit of a notice, in reading order.

    `heading_path` holds the texts of the headings this block stands under, outermost first
    (for a heading: the headings above it, not itself). `level` is the heading level (1-6)
    for headings and the nesting depth (1 = top level) for list items, 0 otherwise.
    """

    kind: str
    text: str
    heading_path: tuple[str, ...] = ()
    level: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "heading_path": list(self.heading_path),
                "level": self.level}

    @classmethod
    def from_dict(cls, data: dict) -> Block:
        return cls(kind=data["kind"], text=data["text"], heading_path=tuple(data.get("heading_path", ())),
                   level=int(data.get("level", 0)))


@dataclass
class Document:
    """A notice as extracted from one raw body."""

    blocks: list[Block] = field(default_factory=list)
    title: str = ""
    language: str | None = None

    def text(self) -> str:
        """The normalised text that decides whether two versions differ."""
        return "\n".join(f"{b.kind}:{b.text}" for b in self.blocks)

    def char_count(self) -> int:
        return sum(len(b.text) for b in self.blocks)

    def markdown(self) -> str:
        """Readable Markdown: headings by level, list items indented by depth, table rows as pipes."""
        lines: list[str] = []
        previous = None
        for block in self.blocks:
            if block.kind == "heading":
                line = "#" * max(1, min(block.level or 2, 6)) + " " + block.text
            elif block.kind == "list_item":
                line = "  " * max(0, block.level - 1) + "- " + block.text
            elif block.kind == "table_row":
                line = "| " + block.text + " |"
            elif block.kind == "definition":
                line = ": " + block.text
            else:
                line = block.text
            tight = previous is not None and previous == block.kind and block.kind in ("list_item", "table_row")
            if lines and not tight:
                lines.append("")
            lines.append(line)
            previous = block.kind
        return "\n".join(lines) + ("\n" if lines else "")

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "language": self.language,
                           "blocks": [b.to_dict() for b in self.blocks]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Document:
        data = json.loads(raw)
        return cls(blocks=[Block.from_dict(b) for b in data.get("blocks", [])], title=data.get("title", ""),
                   language=data.get("language"))
