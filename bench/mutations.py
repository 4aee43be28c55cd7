"""The slowest clause diff over many mutated notices (issue 16: the differ must never stall a cycle).

Each page is a seed notice put through a random mix of the mutations that stalled the old
aligner (tests/support/mutations.py: merges into one long paragraph, splits, shuffles, duplicated
clauses and sections, deletions, rewording), diffed against its seed (every other page the
reverse). Prints the slowest diffs, how many took over 1 s / 2 s, and the issue's two named
worst cases (40 clauses merged into one ~10.8 KB paragraph; 80 clauses, ~18 KB).

Run: `python bench/mutations.py [PAGES] [SEED]` from the repo root (default 2,000 pages).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.core import Document  # noqa: E402
from monitor.diff import diff_documents  # noqa: E402
from tests.support.mutations import merged_run, mutate  # noqa: E402
from tests.support.seeds import SEED_NAMES, seed_document  # noqa: E402


def timed(old: Document, new: Document) -> float:
    t0 = time.perf_counter()
    diff_documents(old, new)
    return time.perf_counter() - t0


def main() -> int:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 16)
    docs = {name: seed_document(name) for name in SEED_NAMES}
    ingram = docs["ingram-micro"]
    for count in (40, 80):
        merged = merged_run(ingram, count)
        size = max(len(b.text.encode()) for b in merged.blocks)
        print(f"{count} clauses merged into one {size / 1024:.1f} KB paragraph: "
              f"merge {timed(ingram, merged):.3f} s, split {timed(merged, ingram):.3f} s")
    worst: list[tuple[float, str, int]] = []
    over1 = over2 = 0
    t_start = time.perf_counter()
    for n in range(pages):
        name = rng.choice(SEED_NAMES)
        new = mutate(docs[name], rng)
        old, new = (docs[name], new) if n % 2 == 0 else (new, docs[name])
        seconds = timed(old, new)
        over1 += seconds > 1
        over2 += seconds > 2
        worst.append((seconds, name, n))
        worst = sorted(worst, reverse=True)[:5]
    total = time.perf_counter() - t_start
    print(f"{pages} mutated pages in {total:.0f} s: slowest {worst[0][0]:.3f} s, "
          f"{over1} over 1 s, {over2} over 2 s")
    print("slowest five:", ", ".join(f"{s:.3f} s ({name} #{n})" for s, name, n in worst))
    return 1 if over1 else 0


if __name__ == "__main__":
    raise SystemExit(main())
