"""Compare two versions of a notice clause by clause, the way a privacy officer reads a change.

A version is a list of clauses (the Document's blocks: headings, paragraphs, list items, table rows,
definitions), each with its heading path and position. `diff_documents(old, new)` aligns them and
reports each change as one of:

- ``added`` / ``removed``: a clause with no counterpart;
- ``modified``: reworded (with a `similarity` figure and a word-level diff);
- ``moved``: the same or near-same text at another position or under another heading;
- ``split`` / ``merged``: one old clause became consecutive new ones, or the reverse;
- ``cosmetic``: only whitespace, quote/dash style, case, punctuation or numbering changed
  (also a clause whose block kind or level alone changed).

Alignment, in passes over hash maps so a 58 KB notice diffs in milliseconds, and near-linear on
hostile pages (see monitor/alignment.py; the whole diff runs under a `DiffBudget`):

0. anchors: texts occurring once on each side, kept where their order agrees (patience / LIS);
1. exact text (same heading path first, then anywhere);
2. the *cosmetic key* (casefolded, punctuation/quotes/dashes/whitespace and leading numbering removed);
3. split/merge: an unmatched clause whose words equal (or nearly equal) those of a run of
   consecutive unmatched clauses on the other side (a few candidate runs, ranked by word overlap);
4. similarity: token-overlap candidates from an inverted index over each clause's rarest words, a
   capped number per clause, then a word-level ratio; greedy best-first assignment above a
   threshold, preferring pairs under the same heading and between the same anchors;
5. order: the longest increasing subsequence of matched pairs stays in place; pairs outside it, or
   whose heading path changed beyond the renaming of their own headings, are ``moved``.

Besides clause changes a diff carries the notice's own dates (`monitor.dates.notice_date`) and seven flags, and
a significance per change and overall (see `significance_of`). `apply_changes(old_blocks, diff)`
rebuilds the new block list from the old one and the diff: the changes are complete.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import re
import sys
import unicodedata
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from diff_match_patch import diff_match_patch

from monitor.core import SIGNIFICANCE_ORDER, Block, CharFold, Document
from monitor.dates import MONTHS, NoticeDate, find_notice_date
from monitor.diff.alignment import (
    DiffBudget,
    Gaps,
    encode_tokens,
    find_run,
    lis,
    unique_anchors,
    word_ratio,
)
from monitor.diff.topics import tag_clause

CHANGE_KINDS = ("added", "removed", "modified", "moved", "split", "merged", "cosmetic")
FLAG_NAMES = ("date_changed", "silent_change", "date_only", "date_backwards", "date_in_future",
              "date_added", "date_removed")
SCHEMA_VERSION = 2

#: Minimum word-level similarity for two different clauses to count as one clause reworded.
MODIFIED_THRESHOLD = 0.5
#: A displaced pair at least this similar is reported as ``moved`` (with its word diff), not ``modified``.
MOVED_NEAR_SAME = 0.85
#: Split/merge: the joined parts must be at least this similar to the whole.
SPLIT_THRESHOLD = 0.85
#: Candidates per clause that get the (costly) word-level ratio; keeps a full rewrite within budget.
CANDIDATES_PER_CLAUSE = 4
#: The rarest words a clause is indexed by for similarity candidates (bounds work on huge clauses).
SIGNATURE_TOKENS = 64
#: Texts longer than this (both sides together) are word-diffed in chunks.
CHUNKED_CHARS = 40_000
#: Topics are read from a clause's first this many characters (a 1 MB paragraph is not read whole).
TAG_CHARS = 20_000

_UNSET: object = object()


# ---------------------------------------------------------------- normalisation

_WS = re.compile(r"\s+")
_QUOTES = CharFold({c: "'" for c in "‘’‚‛′`´«»‹›“”„‟″\""}
                        | {c: "-" for c in "‐‑‒–—―−"})
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}(?:\.\d{1,3})*[.)]?|\(\d{1,3}\)|[a-z][.)]|\([a-z]{1,4}\)|"
                        r"[ivxlc]{1,5}[.)]|[•·▪◦●■\-*–—])\s+", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_NEGATIONS = frozenset({
    "niet", "geen", "nooit", "noch", "alleen", "uitsluitend", "not", "no", "never", "nor", "none", "without",
    "only", "nicht", "kein", "keine", "keinen", "nie", "ohne", "nur", "ne", "pas", "jamais", "aucun",
    "aucune", "sans", "seulement", "zonder"})


@functools.cache
def _month_words() -> frozenset[str]:
    return frozenset(m for table in MONTHS.values() for m in table)


def cosmetic_key(text: str) -> str:
    """The text with every cosmetic variation removed; equal keys mean a cosmetic-only change.

    Casefolded, NFKC, quotes and dashes unified then dropped with all punctuation, whitespace
    collapsed, leading numbering ("5.", "5.1", "a)", "(iv)") and bullets removed.
    """
    text = _QUOTES(unicodedata.normalize("NFKC", text)).casefold()
    text = _NUMBERING.sub("", text, count=1)
    return _WS.sub(" ", _PUNCT.sub(" ", text)).strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(cosmetic_key(text))


def _dateless_key(text: str) -> str:
    """Cosmetic key without numbers and month names: equal keys mean only a date was edited."""
    return " ".join(w for w in _words(text) if not any(ch.isdigit() for ch in w) and w not in _month_words())


def similarity(a: str, b: str) -> float:
    """Word-level similarity in [0, 1] of two clause texts (difflib ratio over cosmetic words, bounded)."""
    return word_ratio(_words(a), _words(b))


# ---------------------------------------------------------------- word diff

def word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """diff-match-patch ops (-1 delete, 0 equal, 1 insert) over words, after semantic cleanup.

    Very long texts (a 1 MB paragraph) are diffed in chunks (`chunked_word_diff`), so the result
    does not depend on diff-match-patch's time cap and the work stays near-linear.
    """
    if len(old) + len(new) > CHUNKED_CHARS:
        return chunked_word_diff(old, new)
    tokens: dict[str, str] = {}
    back: list[str] = []

    def encode(text: str) -> str:
        out = []
        for tok in _TOKEN.findall(text):
            ch = tokens.get(tok)
            if ch is None:
                n = len(back) + 0x100
                if n >= 0xD800:
                    n += 0x800  # skip the surrogate range
                ch = chr(n)
                tokens[tok] = ch
                back.append(tok)
            out.append(ch)
        return "".join(out)

    def decode(chars: str) -> str:
        return "".join(back[(ord(c) - 0x100) if ord(c) < 0xD800 else ord(c) - 0x900] for c in chars)

    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0.2
    diffs = dmp.diff_main(encode(old), encode(new), False)
    dmp.diff_cleanupSemantic(diffs)
    return [(op, decode(chars)) for op, chars in diffs]


def _chunks(text: str) -> list[str]:
    """Content-defined chunks of about 64 words: a chunk ends after a word whose checksum says so, so
    equal stretches of two texts cut into equal chunks whatever was inserted before them."""
    out: list[str] = []
    start = 0
    for match in _WORD.finditer(text):
        if zlib.crc32(match.group().encode()) % 64 == 0:
            out.append(text[start:match.end()])
            start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


def chunked_word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """The word diff of two long texts: chunks diffed as units first (diff-match-patch's line mode,
    with content-defined chunks for lines), then each changed stretch by words."""
    old_chunks, new_chunks = _chunks(old), _chunks(new)
    encoded_old, encoded_new = encode_tokens(old_chunks, new_chunks)
    chars = dict(zip(encoded_old + encoded_new, old_chunks + new_chunks, strict=True))
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # few units; exact
    out: list[tuple[int, str]] = []
    removed, added = [], []

    def flush() -> None:
        if removed or added:
            gone, came = "".join(removed), "".join(added)
            out.extend(word_diff(gone, came) if gone and came and len(gone) + len(came) <= CHUNKED_CHARS
                       else [(op, t) for op, t in ((-1, gone), (1, came)) if t])
            removed.clear()
            added.clear()

    for op, units in dmp.diff_main(encoded_old, encoded_new, False):
        text = "".join(chars[c] for c in units)
        if op == 0:
            flush()
            out.append((0, text))
        else:
            (removed if op < 0 else added).append(text)
    flush()
    merged: list[tuple[int, str]] = []
    for op, text in out:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        elif text:
            merged.append((op, text))
    return merged


def inline_text(ops: Sequence[tuple[int, str]]) -> str:
    """Plain-text rendering: deletions as ``[-old-]``, insertions as ``{+new+}``."""
    return "".join(t if op == 0 else (f"[-{t}-]" if op < 0 else f"{{+{t}+}}") for op, t in ops)


def inline_html(ops: Sequence[tuple[int, str]]) -> str:
    """HTML rendering with ``<del>``/``<ins>``; all page text is escaped (it is hostile input)."""
    out = []
    for op, t in ops:
        e = html.escape(t, quote=True)
        out.append(e if op == 0 else (f"<del>{e}</del>" if op < 0 else f"<ins>{e}</ins>"))
    return "".join(out)


# ---------------------------------------------------------------- changes

@dataclass
class ClauseChange:
    """One changed clause.

    `old`/`new` are the first (usually only) block on each side with its index; a ``split`` has
    several `new_blocks`, a ``merged`` several `old_blocks`. `moved` is also set on a ``modified``
    clause that changed place. `text_changed` says the wording changed beyond cosmetics.
    """

    kind: str
    old: Block | None = None
    new: Block | None = None
    old_index: int | None = None
    new_index: int | None = None
    similarity: float | None = None
    old_blocks: tuple[Block, ...] = ()
    new_blocks: tuple[Block, ...] = ()
    old_indices: tuple[int, ...] = ()
    new_indices: tuple[int, ...] = ()
    moved: bool = False
    text_changed: bool = False
    ops: list[tuple[int, str]] | None = None
    tags: list[str] = field(default_factory=list)
    significance: str = "material"
    date_statement: bool = False

    def __post_init__(self) -> None:
        if not self.old_blocks and self.old is not None:
            self.old_blocks = (self.old,)
            self.old_indices = (self.old_index,) if self.old_index is not None else ()
        if not self.new_blocks and self.new is not None:
            self.new_blocks = (self.new,)
            self.new_indices = (self.new_index,) if self.new_index is not None else ()

    @property
    def heading_path(self) -> tuple[str, ...]:
        block = self.new or self.old
        return block.heading_path if block else ()

    @property
    def old_text(self) -> str | None:
        return " ".join(b.text for b in self.old_blocks) if self.old_blocks else None

    @property
    def new_text(self) -> str | None:
        return " ".join(b.text for b in self.new_blocks) if self.new_blocks else None

    @property
    def inline_text(self) -> str | None:
        return inline_text(self.ops) if self.ops is not None else None

    @property
    def inline_html(self) -> str | None:
        return inline_html(self.ops) if self.ops is not None else None

    def to_dict(self) -> dict:
        """JSON-ready; see `DocumentDiff.to_dict` for the schema."""
        block = self.new or self.old
        return {
            "kind": self.kind,
            "significance": self.significance,
            "tags": list(self.tags),
            "heading_path": list(self.heading_path),
            "heading": " › ".join(self.heading_path),
            "old_heading_path": list(self.old.heading_path) if self.old else None,
            "block_kind": block.kind if block else None,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "old_indices": list(self.old_indices),
            "new_indices": list(self.new_indices),
            "old_text": self.old_text,
            "new_text": self.new_text,
            "old_parts": [b.text for b in self.old_blocks] if len(self.old_blocks) > 1 else None,
            "new_parts": [b.text for b in self.new_blocks] if len(self.new_blocks) > 1 else None,
            "similarity": self.similarity,
            "moved": self.moved,
            "text_changed": self.text_changed,
            "date_statement": self.date_statement,
            "inline_text": self.inline_text,
            "inline_html": self.inline_html,
        }


def _max_significance(levels: Sequence[str]) -> str | None:
    return max(levels, key=SIGNIFICANCE_ORDER.index) if levels else None


@dataclass
class DocumentDiff:
    """All clause changes between two versions, the notice's dates, flags and significance."""

    changes: list[ClauseChange] = field(default_factory=list)
    old_date: NoticeDate | None = None
    new_date: NoticeDate | None = None
    flags: dict = field(default_factory=dict)
    heading_renames: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    old_count: int = 0
    new_count: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def significance(self) -> str | None:
        """The highest change significance (None when nothing changed)."""
        return _max_significance([c.significance for c in self.changes])

    @property
    def is_cosmetic_only(self) -> bool:
        """Changed, but only cosmetically: keep the version, do not report it to people."""
        return bool(self.changes) and all(c.significance == "cosmetic" for c in self.changes)

    @property
    def is_reportable(self) -> bool:
        return any(c.significance != "cosmetic" for c in self.changes)

    @property
    def material_changes(self) -> list[ClauseChange]:
        return [c for c in self.changes if c.significance == "material"]

    def ordered_changes(self) -> list[ClauseChange]:
        """Changes for a digest: most significant first, then in document order."""
        return sorted(self.changes, key=lambda c: -SIGNIFICANCE_ORDER.index(c.significance))

    def to_dict(self) -> dict:
        """The JSON form (``changes --json`` schema version 2).

        ``{"diff_schema": 2, "significance": "material"|"minor"|"cosmetic"|null,
        "is_cosmetic_only": bool, "counts": {kind: n, ...},
        "old_date": NoticeDate|null, "new_date": NoticeDate|null,
        "flags": {"date_changed": false | {"old": NoticeDate|null, "new": NoticeDate|null},
                  "silent_change": bool, "date_only": bool, "date_backwards": bool,
                  "date_in_future": bool, "date_added": bool, "date_removed": bool},
        "clauses": [clause, ...]}`` in document order, where a clause is
        ``{"kind": one of added/removed/modified/moved/split/merged/cosmetic, "significance",
        "tags": [topic, ...], "heading_path": [str], "heading": "a › b", "old_heading_path",
        "block_kind", "old_index", "new_index", "old_indices", "new_indices", "old_text", "new_text",
        "old_parts"/"new_parts": [str]|null (split/merged), "similarity": float|null, "moved": bool,
        "text_changed": bool, "date_statement": bool, "inline_text": "[-old-]{+new+}"|null,
        "inline_html": "<del>old</del><ins>new</ins>" (escaped)|null}``
        and a NoticeDate is ``{"value": "YYYY-MM-DD"|null, "precision": "day"|"month"|"year"|null,
        "display", "kind": "updated"|"effective"|"version", "label", "sentence", "language",
        "pattern", "block_index"}``.
        (The key is `diff_schema`, not `schema`, so it can sit beside a record's own `schema`.)
        """
        return {
            "diff_schema": SCHEMA_VERSION,
            "significance": self.significance,
            "is_cosmetic_only": self.is_cosmetic_only,
            "counts": dict(Counter(c.kind for c in self.changes)),
            "old_date": self.old_date.to_dict() if self.old_date else None,
            "new_date": self.new_date.to_dict() if self.new_date else None,
            "flags": self.flags,
            "clauses": [c.to_dict() for c in self.changes],
        }


# ---------------------------------------------------------------- alignment

class _Aligner:
    def __init__(self, old: Sequence[Block], new: Sequence[Block], check: Callable[[], None]):
        self.old, self.new = old, new
        self.check = check
        self.gaps = Gaps(())
        memo: dict[str, str] = {}

        def key(text: str) -> str:
            k = memo.get(text)
            if k is None:
                k = memo[text] = cosmetic_key(text)
            return k

        self.key = key
        self.okey = [key(b.text) for b in old]
        self.nkey = [key(b.text) for b in new]
        self._paths: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.pair_of_old: dict[int, int] = {}
        self.pair_of_new: dict[int, int] = {}
        self.splits: list[tuple[int, tuple[int, ...], float]] = []
        self.merges: list[tuple[tuple[int, ...], int, float]] = []
        self.sim: dict[tuple[int, int], float] = {}

    def free_old(self) -> list[int]:
        return [i for i in range(len(self.old)) if i not in self.pair_of_old]

    def free_new(self) -> list[int]:
        return [j for j in range(len(self.new)) if j not in self.pair_of_new]

    def pair(self, i: int, j: int) -> None:
        self.pair_of_old[i] = j
        self.pair_of_new[j] = i

    def by_anchors(self) -> None:
        """Pair the texts that occur once on each side and in the same order (patience anchors)."""
        anchors = unique_anchors([b.text for b in self.old], [b.text for b in self.new])
        for i, j in anchors:
            self.pair(i, j)
        self.gaps = Gaps(anchors)

    def by_key(self, okeys: Sequence[object], nkeys: Sequence[object], paths: bool) -> None:
        for with_path in ((True, False) if paths else (False,)):
            buckets: dict[object, deque[int]] = defaultdict(deque)
            for i in self.free_old():
                if okeys[i] is not None:
                    buckets[(okeys[i], self._path(self.old[i])) if with_path else okeys[i]].append(i)
            for j in self.free_new():
                if nkeys[j] is None:
                    continue
                queue = buckets.get((nkeys[j], self._path(self.new[j])) if with_path else nkeys[j])
                if queue:
                    self.pair(queue.popleft(), j)

    def _path(self, block: Block) -> tuple[str, ...]:
        path = self._paths.get(block.heading_path)
        if path is None:
            path = self._paths[block.heading_path] = tuple(self.key(h) for h in block.heading_path)
        return path

    def splits_and_merges(self) -> None:
        self._runs(self.old, self.okey, self.new, self.nkey, self.pair_of_old, self.pair_of_new, split=True)
        self._runs(self.new, self.nkey, self.old, self.okey, self.pair_of_new, self.pair_of_old, split=False)

    def _runs(self, whole, wkey, parts, pkey, wtaken, ptaken, split: bool) -> None:
        """Find wholes equal (or near-equal) to a run of consecutive free parts on the other side.

        Word-level and bounded (see `monitor.alignment.find_run`): a few candidate first parts per
        whole, found by the first characters of their cosmetic key.
        """
        prefix = 12
        starts: dict[str, list[int]] = defaultdict(list)
        for j in range(len(parts)):
            if j not in ptaken and len(pkey[j]) >= prefix:
                starts[pkey[j][:prefix]].append(j)
        words: dict[int, list[str]] = {}

        def part_words(k: int) -> list[str] | None:
            if k >= len(parts) or k in ptaken:
                return None
            if k not in words:
                words[k] = pkey[k].split()
            return words[k]

        for i in range(len(whole)):
            if i in wtaken or len(wkey[i]) < 2 * prefix:
                continue
            free = [j for j in starts.get(wkey[i][:prefix], ()) if j not in ptaken]
            if not free:
                continue
            found = find_run(wkey[i].split(), free, part_words, SPLIT_THRESHOLD, self.check)
            if found is None:
                continue
            wtaken[i] = -1
            for k in found.parts:
                ptaken[k] = -1
            if split:
                self.splits.append((i, found.parts, round(found.ratio, 3)))
            else:
                self.merges.append((found.parts, i, round(found.ratio, 3)))

    def by_similarity(self) -> None:
        free_old, free_new = self.free_old(), self.free_new()
        if not free_old or not free_new:
            return
        otoks = {i: set(self.okey[i].split()) for i in free_old}
        ntoks = {j: set(self.nkey[j].split()) for j in free_new}
        df: Counter[str] = Counter()
        for toks in (*otoks.values(), *ntoks.values()):
            df.update(toks)
        limit = max(3, (len(otoks) + len(ntoks)) // 4)

        def rare(toks: set[str]) -> set[str]:
            picked = sorted(t for t in toks if df[t] <= limit) or sorted(toks)
            if len(picked) > SIGNATURE_TOKENS:  # a long clause is known by its rarest words
                picked = sorted(picked, key=lambda t: df[t])[:SIGNATURE_TOKENS]
            return set(picked)

        orare = {i: rare(t) for i, t in otoks.items()}
        index: dict[str, list[int]] = defaultdict(list)
        for i, toks in orare.items():
            for t in toks:
                index[t].append(i)
        scored: list[tuple[float, int, int]] = []
        owords: dict[int, list[str]] = {}
        for j in free_new:
            self.check()
            nr = rare(ntoks[j])
            counts: Counter[int] = Counter()
            for t in nr:
                for i in index.get(t, ()):
                    counts[i] += 1
            cands = []
            for i, c in counts.items():
                jac = c / (len(orare[i]) + len(nr) - c)
                if jac >= 0.15:
                    cands.append((jac, i))
            cands.sort(reverse=True)
            nwords = self.nkey[j].split()
            for _jac, i in cands[:CANDIDATES_PER_CLAUSE]:
                if i not in owords:
                    owords[i] = self.okey[i].split()
                lo, ln = len(owords[i]), len(nwords)
                if 2.0 * min(lo, ln) / (lo + ln) < MODIFIED_THRESHOLD:
                    continue
                ratio = word_ratio(owords[i], nwords)
                if ratio < MODIFIED_THRESHOLD:
                    continue
                if self.old[i].kind != self.new[j].kind and ratio < 0.8:
                    continue
                # In the same stretch between anchors, or under the same heading: the likelier match.
                bonus = 0.05 if self._path(self.old[i]) == self._path(self.new[j]) else 0.0
                bonus += 0.02 if self.gaps.same(i, j) else 0.0
                scored.append((ratio + bonus, i, j))
                self.sim[(i, j)] = round(ratio, 3)
        scored.sort(key=lambda s: (-s[0], s[2], s[1]))
        for _score, i, j in scored:
            if i not in self.pair_of_old and j not in self.pair_of_new:
                self.pair(i, j)


def _full_path(block: Block) -> tuple[str, ...]:
    return (*block.heading_path, block.text)


def _remap(path: tuple[str, ...], renames: dict[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    return renames.get(path, path)


# ---------------------------------------------------------------- significance

def significance_of(change: ClauseChange) -> str:
    """The significance of one change: ``cosmetic`` < ``minor`` < ``material``.

    Rule, in order:

    - ``cosmetic`` changes are cosmetic;
    - a change to the clause carrying the notice's date statement, where only numbers or month
      names changed, is minor (the date flags report it);
    - a move, split or merge without a change in wording is minor;
    - headings added, removed or reworded are minor (the clauses under them carry the meaning);
    - an added or removed clause is material when it has at least 4 words or a topic tag other
      than "other", else minor;
    - a reworded clause (modified, or moved/split/merged with new wording) is material when the
      edit touches a number or a negation/restriction word ("niet", "not", "only", "kein", "pas"...),
      or changes more than 2 words, or brings the similarity under 0.9; else minor.
    """
    if change.kind == "cosmetic":
        return "cosmetic"
    old_text, new_text = change.old_text or "", change.new_text or ""
    if change.date_statement and old_text and new_text and _dateless_key(old_text) == _dateless_key(new_text):
        return "minor"
    if change.kind in ("moved", "split", "merged") and not change.text_changed:
        return "minor"
    block = change.new or change.old
    if block is not None and block.kind == "heading":
        return "minor"
    if change.kind in ("added", "removed"):
        words = len(_words(new_text or old_text))
        return "material" if words >= 4 or change.tags != ["other"] else "minor"
    touched = [w for op, t in (change.ops or []) if op != 0 for w in _WORD.findall(t.casefold())]
    if any(ch.isdigit() for w in touched for ch in w) or any(w in _NEGATIONS for w in touched):
        return "material"
    if len(touched) > 2 or (change.similarity is not None and change.similarity < 0.9):
        return "material"
    return "minor"


# ---------------------------------------------------------------- the differ

def diff_documents(old: Document, new: Document, *, old_date: NoticeDate | None | object = _UNSET,
                   new_date: NoticeDate | None | object = _UNSET,
                   fetched_at: dt.datetime | dt.date | None = None,
                   language: str | None = None, budget: DiffBudget | None = None) -> DocumentDiff:
    """Align the clauses of `old` and `new` and describe every change, with date flags.

    `old_date`/`new_date` default to `find_notice_date` on each document (pass them when stored,
    or None for "no statement"). `fetched_at` (default: now) decides `date_in_future`.
    Raises `DiffBudgetExceeded` when the diff needs more than `budget` (default: no limit; recording
    passes the configured one).
    """
    budget = budget or DiffBudget(seconds=math.inf, max_chars=sys.maxsize)
    budget.check_size(old.char_count(), new.char_count())
    check = budget.start()
    language = language or new.language or old.language
    if old_date is _UNSET:
        old_date = find_notice_date(old, language)
    if new_date is _UNSET:
        new_date = find_notice_date(new, language)
    hint = None
    if old_date is not None and new_date is not None and old_date.block_index is not None \
            and new_date.block_index is not None:
        hint = (old_date.block_index, new_date.block_index)
    changes, renames = _align(old.blocks, new.blocks, language, hint, check)
    for change in changes:
        change.date_statement = bool(
            (old_date is not None and old_date.block_index in change.old_indices)
            or (new_date is not None and new_date.block_index in change.new_indices))
        change.significance = significance_of(change)
    result = DocumentDiff(changes=changes, old_date=old_date, new_date=new_date,  # type: ignore[arg-type]
                          heading_renames=renames, old_count=len(old.blocks), new_count=len(new.blocks))
    result.flags = compute_flags(result, fetched_at)
    return result


def compute_flags(diff: DocumentDiff, fetched_at: dt.datetime | dt.date | None = None) -> dict:
    """The seven date flags of a diff (see `DocumentDiff.to_dict`).

    `silent_change` needs a date statement on both sides that did not change; a notice without any
    statement cannot be silent about a change (its absence is visible in `old_date`/`new_date`).
    """
    old_date, new_date = diff.old_date, diff.new_date
    if fetched_at is None:
        today = dt.datetime.now(dt.UTC).date()
    elif isinstance(fetched_at, dt.datetime):
        today = fetched_at.date()
    else:
        today = fetched_at
    both = old_date is not None and new_date is not None
    changed = both and old_date.key() != new_date.key()
    material = bool(diff.material_changes)
    order = old_date.compare(new_date) if both else None
    return {
        "date_changed": {"old": old_date.to_dict(), "new": new_date.to_dict()} if changed else False,
        "silent_change": bool(both and not changed and material),
        "date_only": bool(changed and not material),
        "date_backwards": bool(changed and order is not None and order > 0),
        "date_in_future": bool(new_date is not None and new_date.is_after(today)),
        "date_added": old_date is None and new_date is not None,
        "date_removed": old_date is not None and new_date is None,
    }


def _align(old: Sequence[Block], new: Sequence[Block], language: str | None,
           hint: tuple[int, int] | None = None, check: Callable[[], None] = lambda: None
           ) -> tuple[list[ClauseChange], dict[tuple[str, ...], tuple[str, ...]]]:
    al = _Aligner(old, new, check)
    al.by_anchors()
    al.by_key([b.text for b in old], [b.text for b in new], paths=True)
    if len(al.pair_of_old) < len(old) and len(al.pair_of_new) < len(new):
        al.by_key([k or None for k in al.okey], [k or None for k in al.nkey], paths=True)
        if hint and hint[0] not in al.pair_of_old and hint[1] not in al.pair_of_new:
            # The clauses carrying the notice's date statement are one clause, whatever the dates.
            al.pair(*hint)
        al.splits_and_merges()
        al.by_similarity()

    # Units in old order: ("pair", i, j), ("split", i, js), ("merge", is, j); LIS over first new index.
    units: list[tuple] = []
    for i, j in al.pair_of_old.items():
        if j >= 0:
            units.append(("pair", i, j))
    units += [("split", i, js) for i, js, _ in al.splits]
    units += [("merge", is_, j) for is_, j, _ in al.merges]
    units.sort(key=lambda u: u[1] if isinstance(u[1], int) else u[1][0])
    firsts = [u[2] if isinstance(u[2], int) else u[2][0] for u in units]
    in_order = lis(firsts)

    renames: dict[tuple[str, ...], tuple[str, ...]] = {}
    for kind, i, j in units:
        if kind == "pair" and old[i].kind == "heading" and new[j].kind == "heading":
            a, b = _full_path(old[i]), _full_path(new[j])
            if a != b:
                renames.setdefault(a, b)

    changes: list[ClauseChange] = []
    split_sim = {i: r for i, _, r in al.splits}
    merge_sim = {j: r for _, j, r in al.merges}
    for pos, (kind, i, j) in enumerate(units):
        check()
        out_of_order = pos not in in_order
        if kind == "pair":
            o, n = old[i], new[j]
            displaced = out_of_order or _remap(o.heading_path, renames) != n.heading_path
            same_text = o.text == n.text
            if same_text and not displaced and o.kind == n.kind and o.level == n.level:
                continue
            cosmetic = al.okey[i] == al.nkey[j]
            sim = 1.0 if cosmetic else al.sim.get((i, j))
            if sim is None:
                sim = round(similarity(o.text, n.text), 3)
            if displaced:
                ckind = "moved" if cosmetic or sim >= MOVED_NEAR_SAME else "modified"
            else:
                ckind = "cosmetic" if cosmetic else "modified"
            change = ClauseChange(ckind, o, n, i, j, sim, moved=displaced, text_changed=not cosmetic)
            if not same_text:
                change.ops = word_diff(o.text, n.text)
        elif kind == "split":
            js = j
            parts = tuple(new[k] for k in js)
            sim = split_sim[i]
            change = ClauseChange("split", old[i], parts[0], i, js[0], sim, new_blocks=parts, new_indices=js,
                                  moved=out_of_order, text_changed=sim < 1.0)
            change.ops = word_diff(old[i].text, change.new_text or "")
        else:
            is_ = i
            parts = tuple(old[k] for k in is_)
            sim = merge_sim[j]
            change = ClauseChange("merged", parts[0], new[j], is_[0], j, sim, old_blocks=parts,
                                  old_indices=is_, moved=out_of_order, text_changed=sim < 1.0)
            change.ops = word_diff(change.old_text or "", new[j].text)
        changes.append(change)

    taken_old = {k for c in changes for k in c.old_indices} | {i for i, j in al.pair_of_old.items() if j >= 0}
    taken_new = {k for c in changes for k in c.new_indices} | {j for j, i in al.pair_of_new.items() if i >= 0}
    changes += [ClauseChange("removed", old[i], None, i, None) for i in range(len(old)) if i not in taken_old]
    changes += [ClauseChange("added", None, new[j], None, j) for j in range(len(new)) if j not in taken_new]

    for change in changes:
        tags: list[str] = []
        for block in (*change.new_blocks, *change.old_blocks):
            for tag in tag_clause(block.text[:TAG_CHARS], block.heading_path, language):
                if tag not in tags:
                    tags.append(tag)
        if len(tags) > 1 and "other" in tags:
            tags.remove("other")
        change.tags = tags

    # Document order: by new position; removed clauses right after the new position of their
    # nearest preceding old clause that survived.
    old_to_new: dict[int, int] = {}
    for i, j in al.pair_of_old.items():
        if j >= 0:
            old_to_new[i] = j
    for i, js, _ in al.splits:
        old_to_new[i] = js[-1]
    for is_, j, _ in al.merges:
        for i in is_:
            old_to_new[i] = j
    anchor = -1
    removed_pos: dict[int, int] = {}
    for i in range(len(old)):
        if i in old_to_new:
            anchor = old_to_new[i]
        else:
            removed_pos[i] = anchor

    def order(c: ClauseChange) -> tuple[float, int]:
        if c.new_index is not None:
            return (c.new_index, 1)
        return (removed_pos.get(c.old_index or 0, -1) + 0.5, c.old_index or 0)

    changes.sort(key=order)
    return changes, renames


def apply_changes(old_blocks: Sequence[Block], diff: DocumentDiff) -> list[Block]:
    """Rebuild the new version's blocks from the old ones and `diff` (proof the diff is complete).

    Positions named by a change get that change's new blocks; the remaining positions get the
    untouched old blocks in their old order, with heading paths renamed as their headings were.
    """
    placed: dict[int, Block] = {}
    used_old: set[int] = set()
    for change in diff.changes:
        used_old.update(change.old_indices)
        for index, block in zip(change.new_indices, change.new_blocks, strict=True):
            placed[index] = block
    kept = [b for i, b in enumerate(old_blocks) if i not in used_old]
    total = len(placed) + len(kept)
    out: list[Block] = []
    it = iter(kept)
    for index in range(total):
        if index in placed:
            out.append(placed[index])
        else:
            block = next(it)
            path = _remap(block.heading_path, diff.heading_renames)
            out.append(block if path == block.heading_path else
                       Block(block.kind, block.text, path, block.level))
    return out
