"""Benchmark the clause differ on the largest seed (Ingram Micro, ~58 KB).

Scenarios: (a) one clause edited, (b) 20 clauses edited or moved, (c) a full rewrite of the same
length (every clause's words replaced by other words of the notice, shuffled). Prints the median
of several runs per scenario next to its target. Run: `python bench/diff.py` from the repo root.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.core import Document  # noqa: E402
from monitor.diff import diff_documents  # noqa: E402
from tests.support.seeds import seed_document  # noqa: E402

TARGETS_MS = {"a": 20.0, "b": 60.0, "c": 100.0}
RUNS = 25


def one_edit(doc: Document, rng: random.Random) -> Document:
    blocks = list(doc.blocks)
    i = max(range(len(blocks)), key=lambda k: len(blocks[k].text) if blocks[k].kind == "paragraph" else 0)
    text = blocks[i].text.replace(" de ", " het ", 1) + " Ook in de Verenigde Staten."
    blocks[i] = replace(blocks[i], text=text)
    return Document(blocks, doc.title, doc.language)


def twenty_edits(doc: Document, rng: random.Random) -> Document:
    blocks = list(doc.blocks)
    body = [k for k, b in enumerate(blocks) if b.kind != "heading"]
    for k in rng.sample(body, 12):
        words = blocks[k].text.split()
        pos = rng.randrange(len(words))
        words[pos:pos + 1] = ["niet", words[pos], "meer"]
        blocks[k] = replace(blocks[k], text=" ".join(words))
    for _ in range(8):  # moves: take a clause out and put it elsewhere
        k = rng.choice(range(len(blocks)))
        moved = blocks.pop(k)
        blocks.insert(rng.randrange(len(blocks)), moved)
    return Document(blocks, doc.title, doc.language)


def rewrite(doc: Document, rng: random.Random) -> Document:
    vocabulary = re.findall(r"\w+", " ".join(b.text for b in doc.blocks))
    rng.shuffle(vocabulary)
    it = iter(vocabulary * 2)
    blocks = [replace(b, text=" ".join(next(it) for _ in b.text.split())) for b in doc.blocks]
    return Document(blocks, doc.title, doc.language)


def main() -> int:
    rng = random.Random(4)
    old = seed_document("ingram-micro")
    size = len(old.markdown().encode())
    print(f"ingram-micro: {len(old.blocks)} clauses, {size / 1024:.1f} KB")
    failed = False
    for name, make in (("a", one_edit), ("b", twenty_edits), ("c", rewrite)):
        new = make(old, rng)
        timings = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            result = diff_documents(old, new)
            timings.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(timings)
        ok = median <= TARGETS_MS[name]
        failed |= not ok
        kinds: dict[str, int] = {}
        for c in result.changes:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        print(f"({name}) {make.__name__:13s} median {median:7.1f} ms  target <= {TARGETS_MS[name]:5.0f} ms  "
              f"{'ok' if ok else 'SLOW'}  changes: {kinds}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
