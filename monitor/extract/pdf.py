"""PDF notice → Document: text lines by position (pypdf), page furniture removed, lines joined into
clauses.

Running headers and footers (lines at the same place at the top or bottom of most pages, digits
ignored) and page numbers are not content: a re-printed PDF with a new date in its header, or the same text paginated
differently, is the same notice. Lines are joined into paragraphs by vertical gaps; lines in a larger
font are headings; lines starting with a bullet or a number start list items.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from monitor.core import Block, Document
from monitor.extract.bodytext import ExtractionError
from monitor.extract.noise import normalise_text

log = logging.getLogger(__name__)

_PAGE_NUMBER = re.compile(r"^\s*(?:(?:pagina|page|seite|blz\.?|p\.)\s*)?[-–]?\s*\d{1,4}\s*[-–]?"
                          r"(?:\s*(?:van|of|von|de|/|sur)\s*\d{1,4})?\s*$", re.I)
_BULLET = re.compile(r"^\s*[•●▪◦·\-–*]\s+")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+")
_SENTENCE_END = re.compile(r"[.:;!?]\s*$")
_SUSPENDED = re.compile(r"^(en|of|und|oder|et|ou|and|or|tot|t/m)\b", re.I)


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines: a line ending in a hyphen after a letter continues the word on the next line
    ("IP-" + "adres"), except a suspended compound ("IT- en telecomdiensten")."""
    text = ""
    for line in lines:
        if text.endswith("-") and len(text) > 1 and not text[-2].isspace() and line[:1].isalnum() \
                and not _SUSPENDED.match(line):
            text += line
        else:
            text += (" " if text else "") + line
    return text


@dataclass
class _Line:
    y: float
    x: float
    size: float
    text: str


def _page_lines(page) -> list[_Line]:
    chunks: list[tuple[float, float, float, str]] = []

    def visit(text, cm, tm, _font, font_size) -> None:
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0)
        chunks.append((round(y, 1), x, round(font_size * scale, 1), text))

    page.extract_text(visitor_text=visit)
    lines: dict[float, list[tuple[float, float, str]]] = {}
    for y, x, size, text in chunks:
        key = next((k for k in lines if abs(k - y) < 2), y)
        lines.setdefault(key, []).append((x, size, text))
    out = []
    for y in sorted(lines, reverse=True):
        parts = sorted(lines[y])
        text = normalise_text(" ".join(t.replace("\n", " ") for _, _, t in parts))
        if text:
            out.append(_Line(y, parts[0][0], max(s for _, s, _ in parts), text))
    return out


def _furniture_key(edge: str, line: _Line) -> tuple[str, int, str]:
    return edge, round(line.y / 3), re.sub(r"\d+", "#", line.text)


def _furniture_keys(pages: list[list[_Line]]) -> set[tuple[str, int, str]]:
    """Lines that repeat at the same place at the top or bottom of most pages (digits ignored)."""
    if len(pages) < 2:
        return set()
    seen: Counter = Counter()
    for lines in pages:
        keys = {_furniture_key("top", ln) for ln in lines[:2]} | {_furniture_key("bottom", ln) for ln in lines[-2:]}
        seen.update(keys)
    return {key for key, count in seen.items() if count >= max(2, 0.6 * len(pages))}


def _content_lines(pages: list[list[_Line]]) -> list[tuple[_Line, bool]]:
    """Lines without page furniture, each with a flag: does it start a new page?"""
    furniture = _furniture_keys(pages)
    out: list[tuple[_Line, bool]] = []
    for lines in pages:
        kept = []
        for index, ln in enumerate(lines):
            edge = "top" if index < 2 else ("bottom" if index >= len(lines) - 2 else "")
            if edge and _furniture_key(edge, ln) in furniture:
                continue
            if (index < 2 or index >= len(lines) - 2) and _PAGE_NUMBER.match(ln.text):
                continue
            kept.append(ln)
        out.extend((ln, i == 0) for i, ln in enumerate(kept))
    return out


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _parser_quiet() -> Iterator[None]:
    """pypdf's warnings and log lines about a damaged file go to our log at debug level, never to stderr."""
    pypdf_log = logging.getLogger("pypdf")
    collect, propagate = _Collect(), pypdf_log.propagate
    pypdf_log.addHandler(collect)
    pypdf_log.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        pypdf_log.removeHandler(collect)
        pypdf_log.propagate = propagate
        for record in collect.records:
            log.debug("pypdf: %s", record.getMessage())
        for warning in caught:
            log.debug("pypdf warning: %s", warning.message)


def _read_lines(body: bytes) -> list[tuple[_Line, bool]]:
    """The content lines of a PDF; a damaged, truncated or encrypted file is an `ExtractionError`."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    with _parser_quiet():
        try:
            reader = PdfReader(io.BytesIO(body))
            return _content_lines([_page_lines(page) for page in reader.pages])
        except FileNotDecryptedError as exc:
            raise ExtractionError("PDF is encrypted") from exc
        except RecursionError as exc:
            raise ExtractionError("PDF nests its objects too deeply to be read") from exc
        except Exception as exc:  # pypdf raises its own errors and ValueError/KeyError/... on corrupt files
            raise ExtractionError("PDF is damaged or truncated") from exc


def extract_pdf(body: bytes, *, language: str | None = None) -> Document:
    """Extract a PDF notice as blocks."""
    lines = _read_lines(body)
    if not lines:
        return Document(language=language)
    body_size = Counter(ln.size for ln, _ in lines).most_common(1)[0][0]
    gaps = [a.y - b.y for (a, _), (b, new_page) in zip(lines, lines[1:], strict=False)
            if not new_page and a.size == b.size == body_size and a.y > b.y]
    line_gap = sorted(gaps)[len(gaps) // 4] if gaps else body_size * 1.3  # most gaps are within a clause
    left = min(ln.x for ln, _ in lines)
    heading_sizes = sorted({ln.size for ln, _ in lines if ln.size > body_size * 1.15}, reverse=True)

    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    current: list[str] = []
    current_kind = "paragraph"
    previous: _Line | None = None

    def flush() -> None:
        nonlocal current
        text = normalise_text(join_lines(current))
        current = []
        if not text:
            return
        path = tuple(t for _, t in headings)
        if current_kind == "heading":
            level = heading_sizes.index(heading_size) + 1 if heading_size in heading_sizes else 1
            while headings and headings[-1][0] >= level:
                headings.pop()
            blocks.append(Block("heading", text, tuple(t for _, t in headings), level))
            headings.append((level, text))
        elif current_kind == "list_item":
            blocks.append(Block("list_item", _BULLET.sub("", text, count=1), path, 1))
        else:
            blocks.append(Block("paragraph", text, path))

    full_line = max((len(ln.text) for ln, _ in lines if ln.size == body_size), default=80)
    heading_size = 0.0
    for ln, new_page in lines:
        starts_item = bool(_BULLET.match(ln.text)) or (
            bool(_NUMBERED.match(ln.text)) and (previous is None or bool(_SENTENCE_END.search(previous.text))))
        kind = "heading" if ln.size > body_size * 1.15 else ("list_item" if starts_item else "paragraph")
        if previous is None:
            breaks = True
        elif kind == "heading" or current_kind == "heading":
            breaks = kind != current_kind or ln.size != heading_size or previous.y - ln.y > ln.size * 1.6
        elif kind == "list_item":
            breaks = True
        elif new_page and current_kind == "list_item":
            breaks = ln.x <= left + 4  # an indented line continues the list item from the previous page
        elif new_page:  # no gap to measure: a sentence end, or room for the next word, ends the clause
            breaks = (bool(_SENTENCE_END.search(previous.text)) and not ln.text[:1].islower()) \
                or len(previous.text) + 1 + len(ln.text.split(" ", 1)[0]) < 0.92 * full_line
        else:
            breaks = previous.y - ln.y > line_gap * 1.3
        if breaks:
            flush()
            current_kind = kind
            heading_size = ln.size if kind == "heading" else 0.0
        current.append(ln.text)
        previous = ln
    flush()
    title = next((b.text for b in blocks if b.kind == "heading"), "")
    return Document(blocks=blocks, title=title, language=language)
