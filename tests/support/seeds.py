"""Build Documents from the seed texts for tests (not the real extractor: a small, predictable one).

Rules: blocks are separated by blank lines; lines starting with '#' or short numbered lines
("1. Over ons") or short lines without final punctuation are headings; lines starting with
•, -, * are list items; everything else is a paragraph. Heading paths follow heading levels
('#' count; numbered and short headings are level 2, the first line of the text is level 1).
"""

from __future__ import annotations

import re

from monitor.core import Block, Document
from monitor.devtools import SEED_NAMES as SEED_TITLES
from monitor.devtools import seed_text

SEED_NAMES = tuple(SEED_TITLES)

_NUMBERED = re.compile(r"^\d{1,2}\.\s+\S")
_BULLET = re.compile(r"^\s*[•\-*]\s+")


def _classify(line: str) -> tuple[str, int, str]:
    stripped = line.strip()
    if stripped.startswith("#"):
        level = len(stripped) - len(stripped.lstrip("#"))
        return "heading", level, stripped.lstrip("#").strip()
    if _BULLET.match(line) and not stripped.startswith("**") or stripped.startswith("• "):
        depth = 1 + (len(line) - len(line.lstrip())) // 2
        return "list_item", min(depth, 3), _BULLET.sub("", line, count=1).strip()
    if _NUMBERED.match(stripped) and len(stripped) < 90 and not stripped.endswith((".", ";", ":")):
        return "heading", 2, stripped
    if (len(stripped) < 60 and stripped[-1:] not in ".;:,)" and not re.search(r"\d{3}", stripped)
            and "@" not in stripped and len(stripped.split()) >= 2):
        return "heading", 3, stripped
    return "paragraph", 0, stripped


def document_from_text(text: str, language: str = "nl") -> Document:
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        if not lines:
            continue
        # A chunk of bullet lines is several list items; any other chunk is one block.
        if all(_BULLET.match(ln) or ln.strip().startswith("•") for ln in lines) and len(lines) > 1:
            items = lines
        else:
            items = [" ".join(ln.strip() for ln in lines)] if len(lines) > 1 else lines
        for line in items:
            kind, level, body = _classify(line)
            if not body:
                continue
            if kind == "heading" and not blocks:
                level = 1
            path = tuple(t for _, t in stack)
            if kind == "heading":
                while stack and stack[-1][0] >= level:
                    stack.pop()
                path = tuple(t for _, t in stack)
                stack.append((level, body))
            blocks.append(Block(kind, body, path, level))
    return Document(blocks=blocks, title=blocks[0].text if blocks else "", language=language)


def with_paths(blocks: list[Block]) -> list[Block]:
    """Recompute every heading path from the headings' texts and levels (after edits in tests)."""
    out: list[Block] = []
    stack: list[tuple[int, str]] = []
    for block in blocks:
        if block.kind == "heading":
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            path = tuple(t for _, t in stack)
            stack.append((block.level, block.text))
        else:
            path = tuple(t for _, t in stack)
        out.append(block if path == block.heading_path else Block(block.kind, block.text, path, block.level))
    return out


def sections(blocks: list[Block]) -> tuple[list[Block], list[list[Block]]]:
    """(preamble, sections) split at the shallowest heading level below the title."""
    levels = [b.level for b in blocks[1:] if b.kind == "heading"]
    if not levels:
        return list(blocks), []
    top = min(levels)
    preamble: list[Block] = []
    parts: list[list[Block]] = []
    for k, block in enumerate(blocks):
        if block.kind == "heading" and block.level == top and k > 0:
            parts.append([block])
        elif parts:
            parts[-1].append(block)
        else:
            preamble.append(block)
    return preamble, parts


def seed_document(name: str) -> Document:
    return document_from_text(seed_text(name))
