"""The structure of a page: how much text, link text and which headings each element holds, the choice of
the element that holds the notice, and the cut of a page of several legal documents to the one a source
is about.

`measure` is one pass over the elements, descendants before ancestors, so every figure is linear in the
page's size and no walk recurses. `notice_element` keeps the markup's own choice (<main>, [role=main],
the largest <article>) unless it holds a small share of the page's own text (text outside links) while a
longer document stands elsewhere; then, and on a page with none of them, it descends from <body> into the
child that holds most of the text, as long as that child holds most of it and the descent loses no
heading that outranks the child's own. `document_section` reads the heading outline of the extracted
blocks: at the highest level where most headings name legal documents of two or more kinds (names per
language in data/documents.toml), only the one the source is about is kept (named by the URL's fragment,
else the kinds the title and path name, privacy first, else privacy).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from urllib.parse import unquote, urlsplit

from lxml import etree

from monitor.core import Block

HEADING_LEVELS = {f"h{i}": i for i in range(1, 7)}
NO_HEADING = 7
#: The markup's choice stands when it holds at least this share of the page's own text.
MIN_SHARE = 0.4
#: ... and the page is not measured at all when its raw text (white space and links included) says so.
CLEAR_SHARE = 0.8
#: ... or when no text LONGER times its own stands elsewhere (a long document, not spread-out chrome).
LONGER = 2
#: The descent goes into a child that holds at least this share of its parent's own text ...
DESCEND_SHARE = 0.6
#: ... unless a sibling outranking the child's headings comes before it or holds this share.
SIBLING_SHARE = 0.1
MAX_DOCUMENT_NAME = 80  # a heading longer than this is a sentence, not a document's name
_NON_TEXT = frozenset({"nav", "script", "style", "template", "select", "option", "button"})
_NAVIGATION_ROLES = frozenset({"navigation", "menubar", "menu", "search"})


#: What `measure` gives each element: (characters of text, white space left out of the count; of them
#: the characters inside links; its highest heading, 1-6, or NO_HEADING). Plain tuples: the pass is hot.
Measure = tuple[int, int, int]
_NOTHING: Measure = (0, 0, NO_HEADING)


def own_chars(figure: Measure) -> int:
    """Text outside links: what a document is made of (menus and link lists are mostly links)."""
    return figure[0] - figure[1]


def link_share(figure: Measure) -> float:
    return figure[1] / figure[0] if figure[0] else 0.0


def measure(root: etree._Element) -> dict[etree._Element, Measure]:
    """Every element under `root` (and `root`) with its Measure, in one pass, descendants first.
    Navigation (<nav>, role=navigation/menu/search) and controls count as no text."""
    figures: dict[etree._Element, Measure] = {}
    known = figures.get
    headings, non_text, navigation = HEADING_LEVELS, _NON_TEXT, _NAVIGATION_ROLES
    for node in reversed(list(root.iter(etree.Element))):
        name = node.tag
        if name in non_text or node.get("role") in navigation:
            figures[node] = _NOTHING
            continue
        text = node.text
        chars = len(text.strip()) if text else 0
        links, top = 0, headings.get(name, NO_HEADING)
        for child in node:
            tail = child.tail
            if tail:
                chars += len(tail.strip())
            figure = known(child)
            if figure is not None:
                chars += figure[0]
                links += figure[1]
                if figure[2] < top:
                    top = figure[2]
        figures[node] = (chars, chars if name == "a" else links, top)
    return figures


_RAW_LENGTH = etree.XPath("string-length(.)")


def _outside(chosen: etree._Element, top: etree._Element) -> int:
    """The raw length of the text under `top` outside `chosen` (siblings of `chosen` and its ancestors)."""
    total = 0
    node = chosen
    while node is not top:
        parent = node.getparent()
        if parent is None:
            break
        total += len(parent.text or "") + sum(int(_RAW_LENGTH(c)) + len(c.tail or "") for c in parent
                                              if c is not node) + len(node.tail or "")
        node = parent
    return total


def notice_element(root: etree._Element, chosen: etree._Element | None) -> etree._Element:
    """The element that holds the notice: `chosen` (the markup's own choice) when it holds the bulk of
    the page's text, else the element found by descending from <body>."""
    body = next(root.iter("body"), root)
    if chosen is not None:
        inside = _RAW_LENGTH(chosen)
        if inside >= CLEAR_SHARE * (inside + _outside(chosen, body)):
            return chosen  # the cheap test (raw text, links and white space included) settles most pages
    figures = measure(body)
    if chosen is None:
        return descend(body, figures)
    mine = own_chars(figures[chosen])
    if mine >= MIN_SHARE * own_chars(figures[body]):
        return chosen
    found = descend(body, figures)
    around = found is not chosen and any(a is found for a in chosen.iterancestors())
    elsewhere = own_chars(figures[found]) - (mine if around else 0)
    return found if found is not chosen and elsewhere >= LONGER * mine else chosen


def descend(node: etree._Element, figures: dict[etree._Element, Measure]) -> etree._Element:
    """From `node` into the child holding most of its own text, while that child holds DESCEND_SHARE of
    it and no sibling with a heading of the child's rank or higher comes before it or holds
    SIBLING_SHARE of the text (the notice's title and introduction stay with it)."""
    while True:
        children = [c for c in node.iterchildren(etree.Element) if own_chars(figures[c]) > 0]
        if not children:
            return node
        best = max(children, key=lambda c: own_chars(figures[c]))
        total, top = own_chars(figures[node]), figures[best][2]
        if own_chars(figures[best]) < DESCEND_SHARE * total:
            return node
        before = True
        for child in children:
            if child is best:
                before = False
            elif figures[child][2] <= top and (before or own_chars(figures[child]) >= SIBLING_SHARE * total):
                return node
        node = best


# ------------------------------------------------------------------ several documents on one page


@cache
def _names() -> dict[str, tuple[str, ...]]:
    raw = resources.files("monitor.extract").joinpath("data", "documents.toml").read_text("utf-8")
    table = tomllib.loads(raw)
    table.pop("address", None)
    return {kind: tuple(sorted({n.lower() for language, names in languages.items() if language != "address"
                                for n in names}, key=len, reverse=True))
            for kind, languages in table.items()}


@cache
def _address_names() -> dict[str, tuple[str, ...]]:
    """Per kind, its names without accents and its address words (slugs in fragments and paths)."""
    raw = resources.files("monitor.extract").joinpath("data", "documents.toml").read_text("utf-8")
    table = tomllib.loads(raw)
    return {kind: (*_unaccented_names()[kind], *(w.lower() for w in table[kind].get("address", ())))
            for kind in _names()}


@cache
def legal_address_words() -> tuple[str, ...]:
    """Words of data/documents.toml [address]: an address holding one points to legal text."""
    raw = resources.files("monitor.extract").joinpath("data", "documents.toml").read_text("utf-8")
    return tuple(w.lower() for w in tomllib.loads(raw)["address"]["any"])


_NUMBERING = re.compile(r"^(?:(?:part|section|teil|deel|partie|article|artikel|art\.)\s+)?"
                        r"(?:(?:\d+(?:\.\d+)*|[ivxlc]{1,6}|[a-z])[.):]|\d+(?:\.\d+)*)\s*[-–—:]?\s*", re.I)


def document_kind(heading: str) -> str | None:
    """The kind of legal document a heading names ('privacy', 'cookies', 'terms', ...), or None."""
    text = _NUMBERING.sub("", heading.strip()).lower()
    if not text or len(text) > MAX_DOCUMENT_NAME:
        return None
    for kind, names in _names().items():
        if text.startswith(names):
            return kind
    return None


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@cache
def _unaccented_names() -> dict[str, tuple[str, ...]]:
    return {kind: tuple(_unaccented(n) for n in names) for kind, names in _names().items()}


def kinds_named(text: str) -> list[str]:
    """The kinds of document whose names occur anywhere in `text` (a title, an address's words), accents
    left out (addresses spell "confidentialite")."""
    text = _unaccented(text)
    return [kind for kind, names in _unaccented_names().items() if any(name in text for name in names)]


def kinds_in_address(part: str) -> list[str]:
    """The kinds of document an address's path or fragment names, by their names or address words."""
    text = _unaccented(unquote(part))
    spaced = re.sub(r"[-_/.+%]+", " ", text)
    return [kind for kind, words in _address_names().items() if any(w in text or w in spaced for w in words)]


def wanted_kinds(present: Iterable[str], url: str | None, title: str, anchored: str | None) -> set[str]:
    """The kinds of document the source is about, among those `present` on the page: the one the URL's
    fragment points to or names, else those its title and path name (privacy, with a cookie policy if
    named too, wins over others), else privacy."""
    present = set(present)
    if anchored and (kind := document_kind(anchored)) in present:
        return {kind}
    parts = urlsplit(url or "")
    named = {k for k in kinds_in_address(parts.fragment) if k in present}
    if not named:
        named = {k for k in (*kinds_named(title), *kinds_in_address(parts.path)) if k in present}
    if "privacy" in named:  # a "privacy and cookie policy" is about both; "terms and privacy" about privacy
        return named & {"privacy", "cookies"}
    return named or {"privacy"}


def document_section(blocks: Sequence[Block], url: str | None, title: str,
                     anchored: str | None = None) -> list[Block]:
    """The blocks of the one legal document the source is about, when the blocks hold several of them
    as sections on one heading level; else the blocks unchanged. `anchored` is the text of the heading
    the URL's fragment points to, if any."""
    headings = [(i, b) for i, b in enumerate(blocks) if b.kind == "heading"]
    for level in sorted({b.level for _, b in headings}):
        at_level = [(i, b, document_kind(b.text)) for i, b in headings if b.level == level]
        named = [(i, kind) for i, _, kind in at_level if kind is not None]
        kinds = {kind for _, kind in named}
        if len(kinds) < 2 or 2 * len(named) < len(at_level):
            continue
        wanted = wanted_kinds(kinds, url, title, _anchored_section(blocks, anchored, level))
        kept: list[Block] = []
        for i, kind in named:
            if kind in wanted:
                end = next((j for j in range(i + 1, len(blocks)) if blocks[j].kind == "heading"
                            and blocks[j].level <= level), len(blocks))
                kept.extend(blocks[i:end])
        return kept or list(blocks)
    return list(blocks)


def _anchored_section(blocks: Sequence[Block], anchored: str | None, level: int) -> str | None:
    """The heading on `level` whose section holds the heading the URL's fragment points to."""
    if anchored is None:
        return None
    current = None
    for block in blocks:
        if block.kind == "heading" and block.level <= level:
            current = block.text
        if block.kind == "heading" and block.text == anchored:
            return current
    return None


def anchored_heading(content: etree._Element, fragment: str) -> etree._Element | None:
    """The heading an URL fragment points to: the element with that id (or name), if it is a heading,
    else its first heading, else the first heading after it."""
    if not fragment:
        return None
    target = next((n for n in content.iter(etree.Element) if n.get("id") == fragment or n.get("name") == fragment),
                  None)
    if target is None:
        return None
    if target.tag in HEADING_LEVELS:
        return target
    inside = next((n for n in target.iterdescendants(*HEADING_LEVELS)), None)
    if inside is not None:
        return inside
    return next((n for n in target.itersiblings() if n.tag in HEADING_LEVELS), None)
