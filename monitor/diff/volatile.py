"""What varies per request is volatile: learned by fetching twice, masked for the comparison.

When a fetch's text differs from the current version, the spider fetches the page again after a
short pause. Tokens that differ between those two fetches, moments apart, cannot be an edit of the
notice: they are counters, ids, hashes, per-request link tokens. Each differing run of tokens is
remembered as a *site*: the two tokens before it and the one after it (in the comparison text of
one block), how long the run was and whether its words all looked like tokens (a digit, or hex). Masking replaces the
run at every place with that context by one mask token, in both texts compared; the stored text
keeps the real tokens.

Where whole blocks differ between the two fetches (a rotating tip, a shuffled list of any length), the
stretch is one *block site*: the blocks between the equal block before it and the equal block after
it, masked as one block.

A real edit next to a volatile token is still seen: an edit inside the context breaks the context
(the token is then compared as it is), and an edit outside it is outside the mask. Sites are kept
per source (monitor/volatile_sites.py), so later cycles mask without an extra request, and a site
whose value stopped changing is forgotten after a few fetches.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from monitor.core import Block, Document
from monitor.extract import comparison_text, text_sha256

MASK = "\u27e8volatile\u27e9"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_START, _END = "\u2402", "\u2403"  # context markers for a run at the start / end of a block
MAX_SHARE = 0.3  # two fetches differing in more than this share of tokens: the page changed, nothing learned
MAX_SITES = 200
# A block site: whole blocks vary between two stable neighbours (a rotating tip, a shuffled list of any
# length). Its `left` is (_BLOCK, the key of the block before), its `right` the key of the block after,
# its `max_len` the most blocks seen between them.
_BLOCK = "\u2404"
BLOCK_SHARE = 0.5  # a block whose tokens differ by more than this share varies as a whole, not token by token


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
    last = ""  # the last piece matched: what glues is a piece next to a piece, not the glued whole
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        piece = m.group()
        if out and out[-1][1] == start and _part_of_token(piece) and _part_of_token(last):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
        last = piece
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


def _block_key(text: str) -> str:
    """A block's identity as a neighbour of a block site (its comparison text, hashed short)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _units(blocks: Sequence[Block]) -> list[tuple[str, range]]:
    """The page's blocks as units of structure: a run of items of one list (same headings) is one unit,
    any other block its own. Returns each unit's comparison text and the blocks it spans."""
    units: list[tuple[str, range]] = []
    for i, block in enumerate(blocks):
        text = comparison_text(block.text)
        previous = blocks[i - 1] if i else None
        if units and block.kind == "list_item" and previous.kind == "list_item" \
                and previous.heading_path == block.heading_path:
            joined, span = units[-1]
            units[-1] = (joined + "\n" + text, range(span.start, i + 1))
        else:
            units.append((text, range(i, i + 1)))
    return units


def _differing(first: Document, second: Document) -> Iterable[tuple[list[str], list[str], int, str, str]]:
    """The differing stretches of two fetches of one page (comparison form): the blocks on each side, the
    most units on either side (0 when a neighbour is not unique in the page: no place to name), and the
    keys of the equal units before and after (or the document's ends)."""
    a, b = _units(first.blocks), _units(second.blocks)
    texts_a, texts_b = [t for t, _ in a], [t for t, _ in b]
    repeated = {t for t in texts_a if texts_a.count(t) > 1} if len(set(texts_a)) < len(texts_a) else set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, texts_a, texts_b, autojunk=False).get_opcodes():
        if tag != "equal":
            before = _block_key(texts_a[i1 - 1]) if i1 else _START
            after = _block_key(texts_a[i2]) if i2 < len(a) else _END
            old = [comparison_text(first.blocks[k].text) for _, span in a[i1:i2] for k in span]
            new = [comparison_text(second.blocks[k].text) for _, span in b[j1:j2] for k in span]
            ambiguous = (i1 and texts_a[i1 - 1] in repeated) or (i2 < len(a) and texts_a[i2] in repeated)
            yield old, new, 0 if ambiguous else max(i2 - i1, j2 - j1), before, after


def _stretch_sites(old: list[str], new: list[str], units: int, before: str, after: str) -> tuple[list[Site], int]:
    """Sites of one differing stretch and how many tokens differ: token runs when the stretch is the same
    blocks with a few tokens changed in each, else one block site for the whole stretch."""
    if len(old) == len(new):
        runs = [_run_sites(x, y) for x, y in zip(old, new, strict=True)]
        if all(sum(r.max_len for r in sites) <= BLOCK_SHARE * max(len(tokens(x)), 1)
               for x, sites in zip(old, runs, strict=True)):
            found = [site for sites in runs for site in sites]
            return found, sum(site.max_len for site in found)
    size = max(sum(len(tokens(x)) for x in old), sum(len(tokens(y)) for y in new))
    return ([Site((_BLOCK, before), after, units)] if units else []), size


def learn(first: Document, second: Document) -> list[Site]:
    """The sites where two fetches of a page, moments apart, differ (none when the page really changed)."""
    sites: dict[tuple, Site] = {}
    differing = 0
    for old, new, units, before, after in _differing(first, second):
        found, size = _stretch_sites(old, new, units, before, after)
        differing += size
        for site in found:
            sites[site.key] = merge_site(sites.get(site.key), site)
    if len(first.blocks) == len(second.blocks):
        for path_a, path_b in zip((x.heading_path for x in first.blocks), (y.heading_path for y in second.blocks),
                                  strict=True):
            for x, y in zip(path_a, path_b, strict=False):
                if x != y:
                    for site in _run_sites(comparison_text(x), comparison_text(y)):
                        sites[site.key] = merge_site(sites.get(site.key), site)
    total = sum(len(tokens(comparison_text(b.text))) for b in second.blocks) or 1
    if differing > MAX_SHARE * total:
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
    """Token sites by their left context (block sites are applied to whole blocks, see `_mask_blocks`)."""
    index: dict[tuple[str, str], list[Site]] = {}
    for site in sites:
        if site.left[0] != _BLOCK:
            index.setdefault(site.left, []).append(site)
    return index


def _mask_blocks(blocks: list[Block], sites: Iterable[Site]) -> tuple[list[Block], dict[tuple, list[str]]]:
    """Replace what stands at each block site — the units between its two neighbours, however many, at
    most its `max_len` — by one masked block (also where nothing stands there, so both texts agree)."""
    by_before: dict[str, list[Site]] = {}
    for site in sites:
        if site.left[0] == _BLOCK:
            by_before.setdefault(site.left[1], []).append(site)
    if not by_before:
        return blocks, {}
    units = _units(blocks)
    keys = [_block_key(text) for text, _ in units]
    repeated = {k for k in keys if keys.count(k) > 1} if len(set(keys)) < len(keys) else set()
    out: list[Block] = []
    values: dict[tuple, list[str]] = {}
    previous, path, i = _START, (), 0
    while True:
        hit = None if previous in repeated else next(((site, k) for site in by_before.get(previous, ())
                    for k in range(i, min(len(units), i + site.max_len) + 1)
                    if (keys[k] if k < len(units) else _END) == site.right and site.right not in repeated), None)
        if hit is not None:
            site, k = hit
            out.append(Block("paragraph", MASK, path))
            values.setdefault(site.key, []).append("\x1e".join(text for text, _ in units[i:k]))
            i = k
        if i >= len(units):
            return out, values
        out.extend(blocks[n] for n in units[i][1])
        previous, path, i = keys[i], blocks[units[i][1][-1]].heading_path, i + 1


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
                if _looks_like_a_value(site, toks[i:k]):
                    return site, k
                break
            if site.digits and _is_word(here) and not _has_digit(here):
                break
    return None


def _looks_like_a_value(site: Site, run: list[str]) -> bool:
    """Whether a run could be what was seen varying at the site: it holds a word or a token (a token at a
    site of tokens, and no other word there). A run of punctuation alone is never masked: where a site's
    context recurs before a link's "[" or a quote, eating that mark would break the context of the site
    that follows it, and leave its token compared as it is."""
    if site.digits:
        return any(_has_digit(t) for t in run) and all(_has_digit(t) or not _is_word(t) for t in run)
    return any(_is_word(t) or _has_digit(t) for t in run)


def mask_document(document: Document, sites: Iterable[Site]) -> tuple[Document, int]:
    """The document as compared: block texts and heading paths masked; and how many runs were masked."""
    sites = list(sites)
    index = _index(sites)
    source_blocks, block_values = _mask_blocks(list(document.blocks), sites)
    count = sum(len(v) for v in block_values.values())
    if not index:
        return (replace(document, blocks=source_blocks) if block_values else document), count

    def masked(text: str) -> str:
        nonlocal count
        result = mask_text(comparison_text(text), index)
        count += result.count
        return result.text if result.values else text

    blocks = [Block(b.kind, masked(b.text), tuple(mask_text(comparison_text(h), index).text if index else h
                                                   for h in b.heading_path), b.level) for b in source_blocks]
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
    sites = list(sites)
    index = _index(sites)
    _, values = _mask_blocks(list(document.blocks), sites)
    for block in document.blocks if index else ():
        for key, found in mask_text(comparison_text(block.text), index).values.items():
            values.setdefault(key, []).extend(found)
    return {key: "\x1f".join(found) for key, found in values.items()}
