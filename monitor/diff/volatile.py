"""What varies per request is volatile: learned by fetching twice, masked for the comparison.

When a fetch's text differs from the current version, the spider fetches the page again after a
short pause. Tokens that differ between those two fetches, moments apart, cannot be an edit of the
notice: they are counters, ids, hashes, per-request link tokens. Each differing run of tokens is
remembered as a *site*: the two tokens before it and the one after it (in the comparison text of
one block), how long the run was and whether its words all looked like tokens (a digit, or hex). Masking replaces the
run at every place with that context by one mask token, in both texts compared; the stored text
keeps the real tokens.

A real edit next to a volatile token is still seen: an edit inside the context breaks the context
(the token is then compared as it is), and an edit outside it is outside the mask. Sites are kept
per source (monitor/volatile_sites.py), so later cycles mask without an extra request, and a site
whose value stopped changing is forgotten after a few fetches.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from monitor.core import Block, Document
from monitor.extract import comparison_text, text_sha256

MASK = "\u27e8volatile\u27e9"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_START, _END = "\u2402", "\u2403"  # context markers for a run at the start / end of a block
MAX_SHARE = 0.3  # two fetches differing in more than this share of tokens: the page changed, nothing learned
MAX_SITES = 200


@dataclass(frozen=True)
class Site:
    """Where volatility was seen: the run between `left` (two tokens) and `right` (one token)."""

    left: tuple[str, str]
    right: str
    max_len: int = 1
    digits: bool = False  # every word seen in the run looked like a token (digits or hex): only such runs are masked

    @property
    def key(self) -> tuple[tuple[str, str], str]:
        return self.left, self.right


def _spans(text: str) -> list[tuple[int, int]]:
    """Token spans; glued token-like pieces ("150,326", "9ff3fe8c-6715-df24") are one token, so that
    a value is compared whole and a coincidence in one of its parts cannot misalign two fetches."""
    out: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if out and out[-1][1] == start and _part_of_token(m.group()) and _part_of_token(text[slice(*out[-1])]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def tokens(text: str) -> list[str]:
    return [text[a:b] for a, b in _spans(text)]


_HEX = frozenset("0123456789abcdefABCDEF")


def _has_digit(token: str) -> bool:
    """Token-like: it carries a digit, or is a hex group of four or more (ids, hashes, uuids)."""
    return any(c.isdigit() for c in token) or (len(token) >= 4 and set(token) <= _HEX)


def _is_word(token: str) -> bool:
    return token[:1].isalnum() or token[:1] == "_"


_JOINERS = frozenset(",.-_:/+")


def _part_of_token(token: str) -> bool:
    return _has_digit(token) or token in _JOINERS


def _runs(x: str, y: str) -> tuple[list[str], list[str], list[list[int]]]:
    """Differing token runs of two texts, each grown over the glued token-like neighbours it shares
    with both ("761,419" vs "949,419" is one value, not "761" alone), overlapping runs merged."""
    sa, sb = _spans(x), _spans(y)
    a, b = [x[i:j] for i, j in sa], [y[i:j] for i, j in sb]

    def glued(spans: list[tuple[int, int]], k: int) -> bool:  # token k touches token k + 1
        return 0 <= k < len(spans) - 1 and spans[k][1] == spans[k + 1][0]

    runs: list[list[int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        while i1 > 0 and j1 > 0 and a[i1 - 1] == b[j1 - 1] and _part_of_token(a[i1 - 1]) \
                and glued(sa, i1 - 1) and glued(sb, j1 - 1):
            i1, j1 = i1 - 1, j1 - 1
        while i2 < len(a) and j2 < len(b) and a[i2] == b[j2] and _part_of_token(a[i2]) \
                and glued(sa, i2 - 1) and glued(sb, j2 - 1):
            i2, j2 = i2 + 1, j2 + 1
        if runs and i1 <= runs[-1][1]:
            runs[-1][1], runs[-1][3] = max(runs[-1][1], i2), max(runs[-1][3], j2)
        else:
            runs.append([i1, i2, j1, j2])
    return a, b, runs


def _run_sites(x: str, y: str) -> list[Site]:
    """Sites of the differing runs between two texts of one block (comparison form)."""
    a, b, runs = _runs(x, y)
    sites: list[Site] = []
    masked: list[str] = [_START, _START]
    done = 0
    for i1, i2, j1, j2 in runs:
        masked.extend(a[done:i1])
        words = [t for t in a[i1:i2] + b[j1:j2] if _is_word(t)]
        right = a[i2] if i2 < len(a) else _END
        sites.append(Site((masked[-2], masked[-1]), right, max(i2 - i1, j2 - j1),
                          bool(words) and all(_has_digit(t) for t in words)))
        masked.append(MASK)
        done = i2
    return sites


def _aligned_blocks(old: Document, new: Document) -> Iterable[tuple[str, str]]:
    """Pairs of differing block texts (comparison form) of two fetches of one page."""
    a = [comparison_text(b.text) for b in old.blocks]
    b = [comparison_text(b.text) for b in new.blocks]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            yield from zip(a[i1:i2], b[j1:j2], strict=True)
    for path_a, path_b in zip((x.heading_path for x in old.blocks), (y.heading_path for y in new.blocks),
                              strict=False):
        for x, y in zip(path_a, path_b, strict=False):
            if x != y:
                yield comparison_text(x), comparison_text(y)


def learn(first: Document, second: Document) -> list[Site]:
    """The sites where two fetches of a page, moments apart, differ (none when the page really changed)."""
    sites: dict[tuple, Site] = {}
    differing = total = 0
    for x, y in _aligned_blocks(first, second):
        for site in _run_sites(x, y):
            differing += site.max_len
            sites[site.key] = merge_site(sites.get(site.key), site)
    total = sum(len(tokens(comparison_text(b.text))) for b in second.blocks) or 1
    if differing > MAX_SHARE * total or len(first.blocks) != len(second.blocks):
        return []
    return list(sites.values())


def merge_site(old: Site | None, new: Site) -> Site:
    if old is None:
        return new
    return Site(old.left, old.right, max(old.max_len, new.max_len), old.digits and new.digits)


def merge(*groups: Iterable[Site]) -> list[Site]:
    out: dict[tuple, Site] = {}
    for group in groups:
        for site in group:
            out[site.key] = merge_site(out.get(site.key), site)
    return list(out.values())[:MAX_SITES]


@dataclass
class Masked:
    """A text with its volatile runs masked, and what was under each mask."""

    text: str
    values: dict[tuple, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.values.values())


def _index(sites: Iterable[Site]) -> dict[tuple[str, str], list[Site]]:
    index: dict[tuple[str, str], list[Site]] = {}
    for site in sites:
        index.setdefault(site.left, []).append(site)
    return index


def mask_text(text: str, sites: Iterable[Site] | dict) -> Masked:
    """Replace every run standing at a known site by the mask (text in comparison form); the text
    around the runs keeps its spelling."""
    index = sites if isinstance(sites, dict) else _index(sites)
    if not index:
        return Masked(text)
    spans = _spans(text)
    toks = [text[a:b] for a, b in spans]
    context: list[str] = [_START, _START]
    values: dict[tuple, list[str]] = {}
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    i = 0
    while i <= len(toks):
        hit = _match(index.get((context[-2], context[-1]), ()), toks, i)
        if hit is not None:
            site, k = hit
            begin = spans[i][0] if i < len(toks) else len(text)
            finish = spans[k - 1][1] if k > i else begin
            pieces += [text[done:begin], MASK]
            done = finish
            values.setdefault(site.key, []).append(" ".join(toks[i:k]))
            context.append(MASK)
            if k == len(toks):
                break
            context.append(toks[k])
            i = k + 1
            continue
        if i == len(toks):
            break
        context.append(toks[i])
        i += 1
    if not values:
        return Masked(text)
    return Masked("".join(pieces) + text[done:], values)


def _match(candidates: Iterable[Site], toks: list[str], i: int) -> tuple[Site, int] | None:
    """The first site whose run starts at token i: its right context follows within its length."""
    for site in candidates:
        if i < len(toks) and toks[i] == site.right:
            continue  # the context closes at once: nothing stands at this site here
        for k in range(i + 1, min(len(toks), i + site.max_len + 1) + 1):  # a run is never empty
            here = toks[k] if k < len(toks) else _END
            if here == site.right:
                if not site.digits or all(_has_digit(t) or not _is_word(t) for t in toks[i:k]):
                    return site, k
                break
            if site.digits and _is_word(here) and not _has_digit(here):
                break
    return None


def mask_document(document: Document, sites: Iterable[Site]) -> tuple[Document, int]:
    """The document as compared: block texts and heading paths masked; and how many runs were masked."""
    index = _index(sites)
    if not index:
        return document, 0
    count = 0

    def masked(text: str) -> str:
        nonlocal count
        result = mask_text(comparison_text(text), index)
        count += result.count
        return result.text if result.values else text

    blocks = [Block(b.kind, masked(b.text), tuple(mask_text(comparison_text(h), index).text if index else h
                                                   for h in b.heading_path), b.level) for b in document.blocks]
    return replace(document, blocks=blocks), count


def masked_sha256(document: Document, sites: Iterable[Site]) -> str:
    """The hash that decides sameness once volatile runs are masked."""
    sites = list(sites)
    if not sites:
        return text_sha256(document)
    masked, _ = mask_document(document, sites)
    return hashlib.sha256(comparison_text(masked.text()).encode("utf-8")).hexdigest()


def site_values(document: Document, sites: Iterable[Site]) -> dict[tuple, str]:
    """What stands under each site's mask in a document (to see when a site stops varying)."""
    index = _index(sites)
    values: dict[tuple, list[str]] = {}
    if not index:
        return {}
    for block in document.blocks:
        for key, found in mask_text(comparison_text(block.text), index).values.items():
            values.setdefault(key, []).extend(found)
    return {key: "\x1f".join(found) for key, found in values.items()}
