"""The parsed page as lxml elements, and the few tree operations the noise rules and the walker need.

lxml parses a 62 KB notice in well under a millisecond, where building BeautifulSoup's tree over the
same parser took ten times that; everything here is iterative, so a page nested thousands of levels
deep costs time in proportion to its size and never a RecursionError. libxml2 silently drops
what lies beyond its depth limit (about 2048 levels with huge_tree), so a page that reaches it is
parsed again with its nesting flattened beyond FLATTEN_DEPTH.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

FLATTEN_DEPTH = 512
PARSER_DEPTH_LIMIT = 2000  # libxml2 (huge_tree) drops what lies deeper than about 2040 levels
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr", "keygen", "command", "basefont", "frame", "isindex"})
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>")


def _feed(html: str) -> etree._Element | None:
    parser = etree.HTMLParser(recover=True, huge_tree=True, default_doctype=False)
    try:
        parser.feed(html)
        return parser.close()
    except etree.XMLSyntaxError:  # nothing that parses into an element (empty, only a comment)
        return None


_ELEMENTS = etree.XPath("count(//*)")
_TOO_DEEP = etree.XPath("/".join(["*"] * PARSER_DEPTH_LIMIT))  # any element PARSER_DEPTH_LIMIT levels down


def _hit_depth_limit(html: str, root: etree._Element) -> bool:
    """Did libxml2 reach its depth limit (and so drop what lay deeper)? Cheap tests first: a chain that
    deep needs that many tags and elements."""
    return html.count("<") > PARSER_DEPTH_LIMIT and _ELEMENTS(root) > PARSER_DEPTH_LIMIT and bool(_TOO_DEEP(root))


def flatten(html: str, limit: int = FLATTEN_DEPTH) -> str:
    """The markup with start and end tags beyond `limit` levels of nesting left out (their text stays)."""
    out: list[str] = []
    depth, last = 0, 0
    for match in _TAG.finditer(html):
        closing, name, selfclosing = match.group(1), match.group(2).lower(), match.group(3)
        if name in VOID or selfclosing:
            continue
        keep = depth < limit if not closing else depth <= limit
        depth = max(0, depth - 1) if closing else depth + 1
        if not keep:
            out.append(html[last:match.start()])
            out.append(" ")
            last = match.end()
    out.append(html[last:])
    return "".join(out)


def parse_html(html: str) -> etree._Element | None:
    """The page's root element (None for a page without any)."""
    root = _feed(html)
    if root is not None and _hit_depth_limit(html, root):
        root = _feed(flatten(html))
    return root


def is_element(node) -> bool:
    return isinstance(node.tag, str)


def text_of(node: etree._Element, separator: str = "") -> str:
    """All text under the element (not its tail), pieces joined by `separator`; comments left out."""
    return separator.join(node.itertext())


def stripped_text(node: etree._Element) -> str:
    """The element's text pieces stripped, empty ones left out, joined by single spaces."""
    return " ".join(piece for piece in (t.strip() for t in node.itertext()) if piece)


def items(node: etree._Element) -> Iterator[etree._Element | str]:
    """The element's content in order: its text, then each child followed by the child's tail."""
    if node.text:
        yield node.text
    for child in node:
        yield child
        if child.tail:
            yield child.tail


def _detach(node: etree._Element, replacement: str = "") -> None:
    """Take the element out of the tree, keeping its tail (and `replacement`) where it stood."""
    parent = node.getparent()
    if parent is None:
        return
    text = replacement + (node.tail or "")
    if text:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
    parent.remove(node)


class Tree:
    """A parsed page (or one element of it) with the set of elements taken out so far.

    Rules hold lists of elements while they remove some; `gone` answers "was this, or an element
    around it, removed already?" in constant time, as BeautifulSoup's `decomposed` did.
    """

    def __init__(self, root: etree._Element, gone: set | None = None, url: str | None = None) -> None:
        self.root = root
        self.gone: set = gone if gone is not None else set()
        self.url = url  # the page's address, for rules that tell links to the same site from others

    def at(self, node: etree._Element) -> Tree:
        """The same page, seen from one of its elements."""
        return Tree(node, self.gone, self.url)

    def tags(self, names: Iterable[str] | None = None, under: etree._Element | None = None) -> list[etree._Element]:
        """The live elements under `under` (default: this tree's root), optionally only these names."""
        top = self.root if under is None else under
        gone = self.gone
        if names is None:
            return [n for n in top.iterdescendants(etree.Element) if n not in gone]
        return [n for n in top.iterdescendants(*names) if n not in gone]

    def decompose(self, node: etree._Element) -> None:
        """Remove the element and everything in it (its tail text stays)."""
        if node in self.gone:
            return
        self.gone.update(node.iter())
        _detach(node)

    def replace_with_text(self, node: etree._Element, text: str) -> None:
        self.gone.update(node.iter())
        _detach(node, text)

    def remove_comments(self) -> None:
        """Comments (and processing instructions, which the HTML parser reads as comments) with their text."""
        for comment in list(self.root.iter(etree.Comment, etree.ProcessingInstruction)):
            _detach(comment)
