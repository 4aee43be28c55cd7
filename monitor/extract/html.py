"""Raw body → Document: the notice's text as ordered blocks, page chrome and noise left out.

HTML is parsed with BeautifulSoup (lxml). The `page` noise rules run on the whole page (scripts,
consent banners, obfuscated e-mail), the notice element is chosen (`select` selectors win, then
<main>, [role=main], the largest <article>, else <body>), the `content` rules clean it (navigation,
form controls, decoration), and the tree is walked in order: headings set the heading path;
paragraphs, list items, table rows and definitions become blocks; a <br> ends a block like a new
<p> does. Link targets that are content (mailto:, tel:, other pages) are carried into the text as
Markdown links, so a changed address is a changed clause. PDFs go to monitor/pdf.py; plain text is
split on blank lines. The noise rules themselves live in monitor/normalize.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bs4 import BeautifulSoup, NavigableString, Tag

from monitor.core import Block, Document
from monitor.extract.bodytext import ExtractionError, check_text_body, decode_body, extraction_failure
from monitor.extract.noise import link_target, normalise_text, rules_of
from monitor.extract.pdf import extract_pdf

__all__ = ["ExtractionError", "decode_body", "extract_document", "extraction_failure", "extract_html",
           "extract_plain_text", "normalise_text"]

HEADINGS = {f"h{i}": i for i in range(1, 7)}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "blockquote", "pre", "aside",
              "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
              "figure", "figcaption", "address", "details", "summary", "center", "hr", "body", "html", "form",
              "fieldset", "legend", "caption", "nav", "menu", *HEADINGS}


def _has_blocks(node: Tag) -> bool:
    return any(isinstance(d, Tag) and d.name in BLOCK_TAGS for d in node.descendants)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def extract_document(body: bytes, content_type: str | None = None, *, select: Iterable[str] = (),
                     remove: Iterable[str] = (), language: str | None = None, url: str | None = None) -> Document:
    """Extract the notice from a raw body (HTML, PDF or plain text); `url` is the page's address."""
    media = _media_type(content_type)
    if media == "application/pdf" or body[:1024].lstrip().startswith(b"%PDF-"):
        return extract_pdf(body, language=language)
    check_text_body(body, content_type)
    text = decode_body(body, content_type)
    if media == "text/plain":
        return extract_plain_text(text, language=language)
    return extract_html(text, select=select, remove=remove, language=language, url=url)


def extract_plain_text(text: str, *, language: str | None = None) -> Document:
    """Blank-line separated paragraphs; nothing else can be trusted in plain text."""
    blocks = [Block("paragraph", t) for part in re.split(r"\n\s*\n", text) if (t := normalise_text(part))]
    return Document(blocks=blocks, title=blocks[0].text if blocks else "", language=language)


def _main_content(soup: BeautifulSoup, select: Iterable[str]) -> list[Tag]:
    selected: list[Tag] = []
    for selector in select:
        selected.extend(soup.select(selector))
    if selected:
        return selected
    for candidate in (soup.find("main"), soup.find(attrs={"role": "main"})):
        if isinstance(candidate, Tag):
            return [candidate]
    articles = soup.find_all("article")
    if articles:
        return [max(articles, key=lambda a: len(a.get_text(" ", strip=True)))]
    return [soup.body or soup]


def _link_markup(label: str, target: str | None) -> str:
    """A link as Markdown, so its target is part of the clause's text (and its hash)."""
    if target is None:
        return label
    label = " ".join(label.split())
    return f"[{label.replace(']', '')}]({target.replace(')', '%29')})"


class _Walker:
    """Walks the content tree in order, turning elements into blocks."""

    def __init__(self, page_url: str | None) -> None:
        self.page_url = page_url
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.inline: list[str] = []

    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.headings)

    def emit(self, kind: str, text: str, level: int = 0) -> None:
        text = normalise_text(text)
        if not text:
            return
        if kind == "heading":
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            self.blocks.append(Block("heading", text, self.path(), level))
            self.headings.append((level, text))
        else:
            self.blocks.append(Block(kind, text, self.path(), level))

    def flush(self) -> None:
        if self.inline:
            self.emit("paragraph", "".join(self.inline))
            self.inline = []

    def inline_text(self, node: Tag) -> str:
        """The text of an element as one line: <br> is a space, links carry their targets."""
        parts: list[str] = []
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    parts.append(str(child))
            elif isinstance(child, Tag):
                if child.name == "br":
                    parts.append(" ")
                elif child.name == "a":
                    parts.append(self.link(child))
                else:
                    inner = self.inline_text(child)
                    parts.append(f" {inner} " if child.name in BLOCK_TAGS else inner)
        return "".join(parts)

    def link(self, anchor: Tag) -> str:
        label = self.inline_text(anchor)
        href = anchor.get("href")
        target = link_target(href, self.page_url) if isinstance(href, str) else None
        return _link_markup(label, target)

    def walk(self, node: Tag, list_depth: int = 0) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self.flush()
            elif name in HEADINGS:
                self.flush()
                self.emit("heading", self.inline_text(child), HEADINGS[name])
            elif name == "li":
                self.flush()
                self.list_item(child, list_depth + 1)
            elif name in ("ul", "ol"):
                self.flush()
                self.walk(child, list_depth)
            elif name == "tr":
                self.flush()
                cells = [normalise_text(self.inline_text(c)) for c in child.find_all(["td", "th"], recursive=False)]
                self.emit("table_row", " | ".join(c for c in cells if c))
            elif name == "dt":
                self.flush()
                self.emit("definition", self.inline_text(child), 0)
            elif name == "dd":
                self.flush()
                self.emit("definition", self.inline_text(child), 1)
            elif name in BLOCK_TAGS:
                self.flush()
                self.walk(child, list_depth)
                self.flush()
            elif name == "a" and not _has_blocks(child):
                self.inline.append(self.link(child))
            else:
                self.walk(child, list_depth)

    def list_item(self, item: Tag, depth: int) -> None:
        own: list[str] = []
        nested: list[Tag] = []
        for child in item.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                nested.append(child)
            elif isinstance(child, Tag) and child.name == "a":
                own.append(self.link(child))
            elif isinstance(child, Tag):
                inner = self.inline_text(child) if child.name != "br" else " "
                own.append(f" {inner} " if child.name in BLOCK_TAGS else inner)
            elif type(child) is NavigableString:
                own.append(str(child))
        self.emit("list_item", "".join(own), depth)
        for sub in nested:
            for li in sub.find_all("li", recursive=False):
                self.list_item(li, depth + 1)


def extract_html(html: str, *, select: Iterable[str] = (), remove: Iterable[str] = (),
                 language: str | None = None, url: str | None = None) -> Document:
    """Extract the main content of an HTML page as blocks."""
    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = normalise_text(title_tag.get_text()) if title_tag else ""
    page_language = language or (soup.html.get("lang") if soup.html else None)
    for page_rule in rules_of("page"):
        page_rule.func(soup)
    removals = list(remove)
    for selector in removals:
        for node in soup.select(selector):
            node.decompose()
    walker = _Walker(url)
    for root in _main_content(soup, list(select)):
        if root.decomposed:
            continue
        for content_rule in rules_of("content"):
            content_rule.func(root)
        walker.walk(root)
        walker.flush()
    if not title:
        title = next((b.text for b in walker.blocks if b.kind == "heading"), "")
    return Document(blocks=walker.blocks, title=title, language=page_language)
