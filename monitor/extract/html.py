"""Raw body → Document: the notice's text as ordered blocks, page chrome and noise left out.

HTML is parsed with lxml (monitor/extract/tree.py). The `page` noise rules run on the whole page
(scripts, consent banners, obfuscated e-mail), the notice element is chosen (`select` selectors win;
else <main>, [role=main] or the largest <article> when it holds the bulk of the page's text, else the
element the page's structure shows: monitor/extract/structure.py), the `content` rules clean it
(navigation, chrome inside the content, form controls, decoration), and the tree is walked in order:
headings set the heading path; paragraphs, list items, table rows and definitions become blocks; a
<br> ends a block like a new <p> does. Link targets that are content (mailto:, tel:, other pages) are
carried into the text as Markdown links, so a changed address is a changed clause. A page of several
legal documents is then cut to the one the source is about (not when `select` pins the content). PDFs
go to monitor/extract/pdf.py; plain text is split on blank lines. The noise rules themselves live in
monitor/extract/noise.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from monitor.config import css_selector
from monitor.core import Block, Document
from monitor.extract.bodytext import ExtractionError, check_text_body, decode_body, extraction_failure
from monitor.extract.noise import link_target, normalise_text, rules_of
from monitor.extract.pdf import extract_pdf
from monitor.extract.structure import anchored_heading, document_kind, document_section, notice_element
from monitor.extract.tree import Tree, items, parse_html, stripped_text, text_of

__all__ = ["EXTRACTION_RULES", "Extraction", "ExtractionError", "decode_body", "extract_document", "extract_html",
           "extract_page", "extract_plain_text", "extraction_failure", "markup_sha256", "normalise_text",
           "rules_version"]

# The version of the extraction and noise rules. Bump it with every change that can change a Document
# made from the same body (and regenerate tests/fixtures/extract_expected.json): versions record it, a
# body equal to the last good one under the same rules is not parsed again, and a previous version made
# by other rules is re-derived from its raw body before it is compared (an upgrade never reports a change
# that only the extractor made).
EXTRACTION_RULES = "2026.12.2"


def rules_version(select: Iterable[str] = (), remove: Iterable[str] = ()) -> str:
    """The rules a source's versions are made by: EXTRACTION_RULES, plus its own selectors if it has any."""
    select, remove = list(select), list(remove)
    if not select and not remove:
        return EXTRACTION_RULES
    own = hashlib.sha256(json.dumps([select, remove]).encode("utf-8")).hexdigest()[:8]
    return f"{EXTRACTION_RULES}+{own}"

HEADINGS = {f"h{i}": i for i in range(1, 7)}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "blockquote", "pre", "aside",
              "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
              "figure", "figcaption", "address", "details", "summary", "center", "hr", "body", "html", "form",
              "fieldset", "legend", "caption", "nav", "menu", *HEADINGS}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Extraction:
    """What `extract_page` made of a body: its Document, and for HTML the hash of the markup the Document
    was made from (`markup_sha256`). `document` is None when that markup was the `known_markup` the caller
    gave: the Document is then the one that markup made before, and nothing more was done."""

    document: Document | None
    markup_sha256: str | None = None


def extract_document(body: bytes, content_type: str | None = None, *, select: Iterable[str] = (),
                     remove: Iterable[str] = (), language: str | None = None, url: str | None = None) -> Document:
    """Extract the notice from a raw body (HTML, PDF or plain text); `url` is the page's address."""
    document = extract_page(body, content_type, select=select, remove=remove, language=language, url=url,
                            hash_markup=False).document
    assert document is not None  # no known markup was given
    return document


def extract_page(body: bytes, content_type: str | None = None, *, select: Iterable[str] = (),
                 remove: Iterable[str] = (), language: str | None = None, url: str | None = None,
                 known_markup: str | None = None, hash_markup: bool = True) -> Extraction:
    """`extract_document`, with the markup's hash; stops short of extracting when the hash is `known_markup`.
    Without `hash_markup` no hash is made (re-extraction from the archive needs none: 5-10 % of the time)."""
    media = _media_type(content_type)
    if media == "application/pdf" or body[:1024].lstrip().startswith(b"%PDF-"):
        return Extraction(extract_pdf(body, language=language))
    check_text_body(body, content_type)
    text = decode_body(body, content_type)
    if media == "text/plain":
        return Extraction(extract_plain_text(text, language=language))
    return _extract_html(text, select=list(select), remove=list(remove), language=language, url=url,
                         known_markup=known_markup, hash_markup=hash_markup)


def markup_sha256(root: etree._Element, rules: str, url: str | None, language: str | None) -> str:
    """The hash of everything a Document is made from once the `markup` noise rules ran: the page that
    remains, the rules version, the page's address and the source's language. Two bodies with the same
    hash make the same Document, however much their scripts, styles or comments differ."""
    digest = hashlib.sha256("\0".join((rules, url or "", language or "")).encode("utf-8"))
    digest.update(etree.tostring(root, method="html", encoding="utf-8", with_tail=False))
    return digest.hexdigest()


def extract_plain_text(text: str, *, language: str | None = None) -> Document:
    """Blank-line separated paragraphs; nothing else can be trusted in plain text."""
    blocks = [Block("paragraph", t) for part in re.split(r"\n\s*\n", text) if (t := normalise_text(part))]
    return Document(blocks=blocks, title=blocks[0].text if blocks else "", language=language)


def _main_content(tree: Tree, select: list[str]) -> list[etree._Element]:
    """The `select` selectors' elements, else the element that holds the notice (monitor/extract/structure.py):
    the markup's own choice (<main>, [role=main], the largest <article>) when it holds the bulk of the
    page's text, else the one the page's structure shows."""
    root = tree.root
    selected: list[etree._Element] = []
    for selector in select:
        selected.extend(css_selector(selector)(root))
    if selected:
        return selected
    return [notice_element(root, _marked_content(root))]


def _marked_content(root: etree._Element) -> etree._Element | None:
    for candidate in (next(root.iter("main"), None), next((n for n in root.iter(etree.Element)
                                                          if n.get("role") == "main"), None)):
        if candidate is not None:
            return candidate
    articles = list(root.iter("article"))
    if len(articles) > 1 and len({a.getparent() for a in articles}) == 1 and len(_kinds_titled(articles)) > 1:
        return articles[0].getparent()  # sibling legal documents: document_section picks the source's one
    if articles:
        return max(articles, key=lambda a: len(stripped_text(a)))
    return None


def _kinds_titled(articles: list[etree._Element]) -> set[str]:
    """The kinds of legal document the articles' first headings name."""
    kinds = set()
    for article in articles:
        heading = next(article.iterdescendants(*HEADINGS), None)
        kind = document_kind(stripped_text(heading)) if heading is not None else None
        if kind is not None:
            kinds.add(kind)
    return kinds


def _link_markup(label: str, target: str | None) -> str:
    """A link as Markdown, so its target is part of the clause's text (and its hash)."""
    if target is None:
        return label
    label = " ".join(label.split())
    return f"[{label.replace(']', '')}]({target.replace(')', '%29')})"


def _has_blocks(node: etree._Element) -> bool:
    return any(d.tag in BLOCK_TAGS for d in node.iterdescendants(etree.Element))


class _Walker:
    """Walks the content tree in order, turning elements into blocks; iterative, so any depth is fine."""

    def __init__(self, page_url: str | None) -> None:
        self.page_url = page_url
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self._path: tuple[str, ...] = ()  # the texts of `headings`, as blocks store them
        self.inline: list[str] = []

    def path(self) -> tuple[str, ...]:
        return self._path

    def emit(self, kind: str, text: str, level: int = 0) -> None:
        if not text or text.isspace():  # white space only normalises to nothing (the common case)
            return
        text = normalise_text(text)
        if not text:
            return
        if kind == "heading":
            headings = self.headings
            while headings and headings[-1][0] >= level:
                headings.pop()
            self._path = tuple(t for _, t in headings)
            self.blocks.append(Block("heading", text, self._path, level))
            headings.append((level, text))
            self._path = (*self._path, text)
        else:
            self.blocks.append(Block(kind, text, self._path, level))

    def flush(self) -> None:
        if self.inline:
            self.emit("paragraph", "".join(self.inline))
            self.inline = []

    def target(self, anchor: etree._Element) -> str | None:
        href = anchor.get("href")
        return link_target(href, self.page_url) if href is not None else None

    def inline_text(self, node: etree._Element) -> str:
        """The text of an element as one line: <br> is a space, links carry their targets."""
        parts: list[str] = []
        frames: list[tuple[Iterator, list[str], etree._Element | None, list[str]]] = [(items(node), parts, None, [])]
        while frames:
            content, out, element, outer = frames[-1]
            for child in content:
                if isinstance(child, str):
                    out.append(child)
                elif not isinstance(child.tag, str):
                    continue
                elif child.tag == "br":
                    out.append(" ")
                else:
                    frames.append((items(child), [], child, out))
                    break
            else:
                frames.pop()
                if element is not None:
                    inner = "".join(out)
                    if element.tag == "a":
                        outer.append(_link_markup(inner, self.target(element)))
                    else:
                        outer.append(f" {inner} " if element.tag in BLOCK_TAGS else inner)
        return "".join(parts)

    def walk(self, node: etree._Element) -> None:
        frames: list[tuple[Iterator, int, bool]] = [(items(node), 0, False)]
        while frames:
            content, depth, flush_after = frames[-1]
            for child in content:
                if isinstance(child, str):
                    self.inline.append(child)
                    continue
                name = child.tag
                if not isinstance(name, str):
                    continue
                if name in BLOCK_TAGS or name == "br":
                    self.flush()
                    if name in HEADINGS:
                        self.emit("heading", self.inline_text(child), HEADINGS[name])
                    elif name == "li":
                        self.list_item(child, depth + 1)
                    elif name == "tr":
                        cells = [normalise_text(self.inline_text(c)) for c in child if c.tag in ("td", "th")]
                        self.emit("table_row", " | ".join(c for c in cells if c))
                    elif name == "dt" or name == "dd":
                        self.emit("definition", self.inline_text(child), 0 if name == "dt" else 1)
                    elif name != "br":
                        frames.append((items(child), depth, name not in ("ul", "ol")))
                        break
                elif name == "a" and not _has_blocks(child):
                    self.inline.append(self.inline_text_of_link(child))
                else:
                    frames.append((items(child), depth, False))
                    break
            else:
                frames.pop()
                if flush_after:
                    self.flush()

    def inline_text_of_link(self, anchor: etree._Element) -> str:
        return _link_markup(self.inline_text(anchor), self.target(anchor))

    def list_item(self, first: etree._Element, first_depth: int) -> None:
        """A list item's own text as one block, then its nested lists' items, depth first in order."""
        pending = [(first, first_depth)]
        while pending:
            item, depth = pending.pop()
            own: list[str] = []
            nested: list[etree._Element] = []
            for child in items(item):
                if isinstance(child, str):
                    own.append(child)
                elif not isinstance(child.tag, str):
                    continue
                elif child.tag in ("ul", "ol"):
                    nested.append(child)
                elif child.tag == "a":
                    own.append(self.inline_text_of_link(child))
                else:
                    inner = self.inline_text(child) if child.tag != "br" else " "
                    own.append(f" {inner} " if child.tag in BLOCK_TAGS else inner)
            self.emit("list_item", "".join(own), depth)
            pending.extend(reversed([(li, depth + 1) for sub in nested for li in sub if li.tag == "li"]))


def extract_html(html: str, *, select: Iterable[str] = (), remove: Iterable[str] = (),
                 language: str | None = None, url: str | None = None) -> Document:
    """Extract the main content of an HTML page as blocks."""
    document = _extract_html(html, select=list(select), remove=list(remove), language=language, url=url,
                             hash_markup=False).document
    assert document is not None  # no known markup was given
    return document


def _extract_html(html: str, *, select: list[str], remove: list[str], language: str | None, url: str | None,
                  known_markup: str | None = None, hash_markup: bool) -> Extraction:
    root = parse_html(html)
    if root is None:
        return Extraction(Document(blocks=[], title="", language=language))
    tree = Tree(root, url=url)
    for markup_rule in rules_of("markup"):
        markup_rule.func(tree)
    markup = markup_sha256(root, rules_version(select, remove), url, language) if hash_markup or known_markup else None
    if markup is not None and markup == known_markup:
        return Extraction(None, markup)
    title_tag = next(root.iter("title"), None)
    title = normalise_text(text_of(title_tag)) if title_tag is not None else ""
    lang_attribute = root.get("lang") if root.tag == "html" else None
    page_language = language or lang_attribute
    for page_rule in rules_of("page"):
        page_rule.func(tree)
    for selector in remove:
        for node in css_selector(selector)(root):
            tree.decompose(node)
    walker = _Walker(url)
    fragment = urlsplit(url).fragment if url else ""
    anchored: str | None = None
    for content in _main_content(tree, select):
        if content in tree.gone:
            continue
        for content_rule in rules_of("content"):
            content_rule.func(tree.at(content))
        if fragment and (heading := anchored_heading(content, fragment)) is not None:
            anchored = normalise_text(walker.inline_text(heading))
        walker.walk(content)
        walker.flush()
    if not select:
        walker.blocks = document_section(walker.blocks, url, title, anchored)
    if not title:
        title = next((b.text for b in walker.blocks if b.kind == "heading"), "")
    return Extraction(Document(blocks=walker.blocks, title=title, language=page_language,
                               page_language=lang_attribute if isinstance(lang_attribute, str) else None), markup)
