"""Raw body → Document: the notice's text as ordered blocks, page chrome left out.

HTML is parsed with BeautifulSoup (lxml). Chrome (navigation, site header and footer, asides,
scripts, forms, cookie banners) is removed, the main content is chosen (`select` selectors win,
then <main>, [role=main], the largest <article>, else <body>), and the remaining tree is walked
in order: headings set the heading path, paragraphs, list items, table rows and definitions
become blocks. Plain-text bodies are split on blank lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from w3lib.encoding import html_to_unicode

from monitor.document import Block, Document

HEADINGS = {f"h{i}": i for i in range(1, 7)}
CHROME_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
               "form", "button", "input", "select", "textarea", "nav", "aside", "dialog", "link", "meta")
CHROME_ROLES = ("navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "complementary")
# Words that name consent and cookie banners, pop-ups and widgets in id/class attributes across vendors.
BANNER_WORDS = re.compile(
    r"(^|[-_\s])(cookie|cookies|consent|gdpr|onetrust|optanon|cookiebot|cybot|cky|cookieyes|"
    r"newsletter-popup|popup|modal|chat-widget|livechat|intercom)([-_\s]|$)", re.I)
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "blockquote", "pre",
              "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
              "figure", "figcaption", "address", "details", "summary", "center", "hr", "body", "html",
              *HEADINGS}
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalise_text(text: str) -> str:
    """Unicode NFC, invisible characters removed, every run of white space one space."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return SPACES.sub(" ", text).strip()


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode with the BOM, then the Content-Type charset, then <meta charset>, then detection."""
    _encoding, text = html_to_unicode(content_type, body)
    return text


def extract_document(body: bytes, content_type: str | None = None, *, select: Iterable[str] = (),
                     remove: Iterable[str] = (), language: str | None = None) -> Document:
    """Extract the notice from a raw body (HTML or plain text)."""
    text = decode_body(body, content_type)
    if content_type and content_type.split(";")[0].strip().lower() == "text/plain":
        return extract_plain_text(text, language=language)
    return extract_html(text, select=select, remove=remove, language=language)


def extract_plain_text(text: str, *, language: str | None = None) -> Document:
    """Blank-line separated paragraphs; nothing else can be trusted in plain text."""
    blocks = [Block("paragraph", t) for part in re.split(r"\n\s*\n", text) if (t := normalise_text(part))]
    return Document(blocks=blocks, title=blocks[0].text if blocks else "", language=language)


def _drop_chrome(root: Tag, remove: Iterable[str]) -> None:
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for selector in remove:
        for node in root.select(selector):
            node.decompose()
    for node in root.find_all(CHROME_TAGS):
        node.decompose()
    for node in root.find_all(attrs={"role": True}):
        if not node.decomposed and node.get("role") in CHROME_ROLES:
            node.decompose()
    for node in root.find_all(attrs={"aria-hidden": "true"}):
        if not node.decomposed:
            node.decompose()
    for node in root.find_all(["header", "footer"]):
        if not node.decomposed and node.find_parent(["main", "article"]) is None:
            node.decompose()
    for node in root.find_all(True):
        if node.decomposed or node.name in ("html", "body", "main", "article"):
            continue
        marker = " ".join([node.get("id") or "", *(node.get("class") or [])])
        if marker and BANNER_WORDS.search(marker):
            node.decompose()


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


class _Walker:
    """Walks the content tree in order, turning elements into blocks."""

    def __init__(self) -> None:
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

    def walk(self, node: Tag, list_depth: int = 0) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self.inline.append(" ")
            elif name in HEADINGS:
                self.flush()
                self.emit("heading", child.get_text(" "), HEADINGS[name])
            elif name == "li":
                self.flush()
                self.list_item(child, list_depth + 1)
            elif name in ("ul", "ol"):
                self.flush()
                self.walk(child, list_depth)
            elif name == "tr":
                self.flush()
                cells = [normalise_text(c.get_text(" ")) for c in child.find_all(["td", "th"], recursive=False)]
                self.emit("table_row", " | ".join(c for c in cells if c))
            elif name == "dt":
                self.flush()
                self.emit("definition", child.get_text(" "), 0)
            elif name == "dd":
                self.flush()
                self.emit("definition", child.get_text(" "), 1)
            elif name in BLOCK_TAGS:
                self.flush()
                self.walk(child, list_depth)
                self.flush()
            else:
                self.walk_inline(child)

    def walk_inline(self, node: Tag) -> None:
        """Inline elements keep their text in the running paragraph, but may hold blocks."""
        if node.find(list(BLOCK_TAGS)) is None:
            self.inline.append(node.get_text(""))
        else:
            self.walk(node)

    def list_item(self, item: Tag, depth: int) -> None:
        own: list[str] = []
        nested: list[Tag] = []
        for child in item.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                nested.append(child)
            elif isinstance(child, Tag):
                own.append(child.get_text(" "))
            elif isinstance(child, NavigableString):
                own.append(str(child))
        self.emit("list_item", "".join(own), depth)
        for sub in nested:
            for li in sub.find_all("li", recursive=False):
                self.list_item(li, depth + 1)


def extract_html(html: str, *, select: Iterable[str] = (), remove: Iterable[str] = (),
                 language: str | None = None) -> Document:
    """Extract the main content of an HTML page as blocks."""
    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = normalise_text(title_tag.get_text()) if title_tag else ""
    page_language = language or (soup.html.get("lang") if soup.html else None)
    roots = _main_content(soup, list(select))
    walker = _Walker()
    for root in roots:
        _drop_chrome(root, list(remove))
        walker.walk(root)
        walker.flush()
    if not title:
        title = next((b.text for b in walker.blocks if b.kind == "heading"), "")
    return Document(blocks=walker.blocks, title=title, language=page_language)
