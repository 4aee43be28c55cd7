"""Bounded building blocks of the clause aligner (monitor/diff.py): anchors, word ratios, runs, budget.

Hostile or odd pages (a notice merged into one 30 KB paragraph, sections copied five times) once
made the aligner compare long texts character by character with every run of clauses: minutes per
page, on the thread that records every other source. Everything here is near-linear in the words
of the two versions, and the whole diff runs under a `DiffBudget`: past it, the diff stops with
`DiffBudgetExceeded`, which recording turns into a failed fetch with the budget in its reason.
"""

from __future__ import annotations

import bisect
import difflib
import time
import zlib
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

#: Up to this many word pairs (len(a) * len(b)) a ratio is difflib's exact one; above, diff-match-patch's.
EXACT_RATIO_CELLS = 250_000
#: diff-match-patch's own time cap for one long ratio over chunks (normally far from reached).
LONG_RATIO_TIMEOUT = 0.5
#: Split/merge: candidate first parts tried per whole clause (duplicated clauses share a prefix).
MAX_RUN_STARTS = 8


class DiffBudgetExceeded(Exception):
    """The diff of two versions needed more time or input than its budget allows (the message says which)."""


@dataclass(frozen=True)
class DiffBudget:
    """How much one diff may cost: wall-clock seconds and characters per version ([crawl] diff_*)."""

    seconds: float = 10.0
    max_chars: int = 5_000_000

    def start(self) -> Callable[[], None]:
        """A check to call in every loop: raises `DiffBudgetExceeded` once `seconds` have passed."""
        deadline = time.monotonic() + self.seconds

        def check() -> None:
            if time.monotonic() > deadline:
                raise DiffBudgetExceeded(f"diff took longer than {self.seconds:g} s ([crawl] diff_timeout)")
        return check

    def check_size(self, old_chars: int, new_chars: int) -> None:
        biggest = max(old_chars, new_chars)
        if biggest > self.max_chars:
            raise DiffBudgetExceeded(f"version of {biggest:,} characters is larger than {self.max_chars:,} "
                                     "([crawl] diff_max_chars)")


def encode_tokens(*sequences: Sequence[Hashable]) -> list[str]:
    """Each token as one character, shared across `sequences`, so diff-match-patch diffs tokens."""
    codes: dict[Hashable, str] = {}
    out = []
    for seq in sequences:
        chars = []
        for tok in seq:
            ch = codes.get(tok)
            if ch is None:
                n = len(codes) + 0x100
                ch = codes[tok] = chr(n + 0x800 if n >= 0xD800 else n)  # skip the surrogates
            chars.append(ch)
        out.append("".join(chars))
    return out


def word_ratio(a: Sequence[str], b: Sequence[str]) -> float:
    """Similarity in [0, 1] of two word lists: difflib's ratio, or for long lists a bounded equivalent.

    Long lists (a 1 MB paragraph) go through diff-match-patch over one character per word, with a
    time cap; the figure is 2 * (words in common runs) / (total words), as difflib's.
    """
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    if len(a) * len(b) <= EXACT_RATIO_CELLS:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    if list(a) == list(b):
        return 1.0
    total = len(a) + len(b)
    upper = 2.0 * sum((Counter(a) & Counter(b)).values()) / total
    if upper < 0.5:
        return upper  # a bound, and below any threshold that matters
    # Content-defined chunks of words (about total/400 words each): equal stretches cut alike on both
    # sides, so diff-match-patch over a few hundred units finds them exactly, well within its cap.
    modulus = max(4, min(64, total // 400))
    ca, cb = _word_chunks(a, modulus), _word_chunks(b, modulus)
    ea, eb = encode_tokens(ca, cb)
    sizes = {ch: len(chunk) for ch, chunk in zip(ea + eb, ca + cb, strict=True)}
    dmp = diff_match_patch()
    dmp.Diff_Timeout = LONG_RATIO_TIMEOUT
    same = sum(sizes[ch] for op, text in dmp.diff_main(ea, eb, False) if op == 0 for ch in text)
    return 2.0 * same / total


def _word_chunks(words: Sequence[str], modulus: int) -> list[tuple[str, ...]]:
    """Runs of words, each ending after a word whose checksum is 0 modulo `modulus`."""
    out: list[tuple[str, ...]] = []
    start = 0
    for index, word in enumerate(words):
        if zlib.crc32(word.encode()) % modulus == 0:
            out.append(tuple(words[start:index + 1]))
            start = index + 1
    if start < len(words):
        out.append(tuple(words[start:]))
    return out


def unique_anchors(old: Sequence[Hashable], new: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Patience anchors: texts occurring exactly once on each side, kept where their order agrees.

    Returns (old index, new index) pairs increasing in both, from a longest increasing subsequence.
    """
    once_old = {k: i for k, (i, _) in _once(old).items()}
    pairs = sorted((once_old[k], j) for k, (j, _) in _once(new).items() if k in once_old)
    keep = lis([j for _, j in pairs])
    return [pairs[p] for p in sorted(keep)]


def _once(items: Sequence[Hashable]) -> dict[Hashable, tuple[int, int]]:
    seen: dict[Hashable, tuple[int, int]] = {}
    for index, item in enumerate(items):
        first, count = seen.get(item, (index, 0))
        seen[item] = (first, count + 1)
    return {k: v for k, v in seen.items() if v[1] == 1}


def lis(seq: Sequence[int]) -> set[int]:
    """Positions (into `seq`) of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_pos: list[int] = []
    prev = [-1] * len(seq)
    for p, v in enumerate(seq):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_pos.append(p)
        else:
            tails[k] = v
            tail_pos[k] = p
        prev[p] = tail_pos[k - 1] if k else -1
    keep: set[int] = set()
    p = tail_pos[-1] if tail_pos else -1
    while p >= 0:
        keep.add(p)
        p = prev[p]
    return keep


class Gaps:
    """Which stretch between two consecutive anchors a clause lies in, on either side."""

    def __init__(self, anchors: Sequence[tuple[int, int]]) -> None:
        self._old = [i for i, _ in anchors]
        self._new = [j for _, j in anchors]

    def same(self, i: int, j: int) -> bool:
        return bisect.bisect_left(self._old, i) == bisect.bisect_left(self._new, j)


class _Overlap:
    """Multiset overlap of a growing word list with a fixed target, kept up to date per word."""

    def __init__(self, want: Counter[str]) -> None:
        self.want, self.have = want, Counter[str]()
        self.size = sum(want.values())
        self.common = self.length = 0

    def add(self, words: list[str]) -> float:
        """Add words; return the upper bound of the ratio so far (2 * common / total words)."""
        for w in words:
            if self.have[w] < self.want[w]:
                self.common += 1
            self.have[w] += 1
        self.length += len(words)
        return 2.0 * self.common / (self.length + self.size)


@dataclass
class Run:
    """A run of consecutive parts that together make one whole clause (a split or a merge)."""

    parts: tuple[int, ...]
    ratio: float


def find_run(target: Sequence[str], starts: Sequence[int], part_words: Callable[[int], list[str] | None],
             threshold: float, check: Callable[[], None]) -> Run | None:
    """The run of consecutive parts, beginning at one of `starts`, that best rebuilds `target`'s words.

    `part_words(k)` gives part k's words, or None when part k is taken or does not exist. Runs grow
    while each part's words mostly occur in the target and the run is not much longer than it; a
    multiset overlap (an upper bound of the ratio, kept up to date per word) ranks the runs, and
    only the best two get the exact `word_ratio`. A run must explain the target better than its
    first part alone, else the whole is a reworded clause, not a split or merge.
    """
    want: Counter[str] | None = None
    target_words: set[str] = set(target)
    ranked: list[tuple[float, int, tuple[int, ...], float]] = []
    for j in starts[:MAX_RUN_STARTS]:
        first, second = part_words(j), part_words(j + 1)
        if not first or not second or sum(w in target_words for w in second) < 0.8 * len(second):
            continue  # a run needs a second part from the whole; no need to count the first one's words
        check()
        want = want if want is not None else Counter(target)
        overlap = _Overlap(want)
        alone = overlap.add(first)
        run = [j]
        k = j + 1
        while overlap.length < len(target) * 1.15:
            words = part_words(k)
            if not words or sum(w in want for w in words) < 0.8 * len(words):
                break
            upper = overlap.add(words)
            run.append(k)
            k += 1
            if upper >= threshold and upper > alone + 0.05:
                ranked.append((upper, -j, tuple(run), alone))
            if overlap.common == overlap.length == len(target):
                break
    ranked.sort(reverse=True)
    for upper, _, parts, alone in ranked[:2]:
        joined = [w for k in parts for w in part_words(k) or ()]
        ratio = 1.0 if upper == 1.0 and joined == list(target) else word_ratio(joined, target)
        if ratio >= threshold and ratio > alone + 0.05:
            return Run(parts, ratio)
    return None
