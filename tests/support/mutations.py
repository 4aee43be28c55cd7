"""Hostile-but-plausible mutations of a notice's clause list (bench/mutations.py, tests/test_diff_hostile.py).

The mix that once stalled the clause aligner: runs of clauses merged into one long paragraph, long
clauses split into many, shuffled stretches, duplicated clauses and sections (deep copies), deleted
runs, reworded clauses.
"""

from __future__ import annotations

import random
from dataclasses import replace

from monitor.core.document import Block, Document
from tests.support.seeds import with_paths

MUTATIONS = ("merge", "split", "shuffle", "duplicate", "delete", "reword", "deepcopy")


def merged_run(doc: Document, count: int, start: int = 5) -> Document:
    """`count` consecutive clauses from `start` merged into one paragraph (the issue's worst case)."""
    blocks = list(doc.blocks)
    run = blocks[start:start + count]
    merged = Block("paragraph", " ".join(b.text for b in run), run[0].heading_path, 0)
    return Document(with_paths([*blocks[:start], merged, *blocks[start + count:]]), doc.title, doc.language)


def _apply(blocks: list[Block], op: str, rng: random.Random) -> None:
    n = len(blocks)
    if op == "merge":
        k = rng.randrange(n - 1)
        size = rng.randint(2, min(100, n - k))
        blocks[k:k + size] = [Block("paragraph", " ".join(b.text for b in blocks[k:k + size]),
                                    blocks[k].heading_path, 0)]
    elif op == "split":
        k = max(range(n), key=lambda i: len(blocks[i].text) * rng.random())
        words = blocks[k].text.split()
        if len(words) > 1:
            cuts = sorted(rng.sample(range(1, len(words)), min(len(words) - 1, rng.randint(1, 30))))
            parts = [" ".join(words[a:b]) for a, b in zip([0, *cuts], [*cuts, len(words)], strict=True)]
            blocks[k:k + 1] = [replace(blocks[k], text=p) for p in parts]
    elif op == "shuffle":
        a = rng.randrange(n)
        chunk = blocks[a:a + rng.randint(2, 60)]
        rng.shuffle(chunk)
        blocks[a:a + len(chunk)] = chunk
    elif op == "duplicate":
        k = rng.randrange(n)
        blocks[k:k] = [blocks[k]] * rng.randint(1, 20)
    elif op == "deepcopy":
        a = rng.randrange(n)
        b = min(n, a + rng.randint(5, 80))
        blocks[b:b] = blocks[a:b] * rng.randint(1, 4)
    elif op == "delete":
        a = rng.randrange(n)
        del blocks[a:a + rng.randint(1, 20)]
    else:
        for k in rng.sample(range(n), min(n, rng.randint(1, 40))):
            words = blocks[k].text.split()
            rng.shuffle(words)
            blocks[k] = replace(blocks[k], text=" ".join(words[:max(1, len(words) - rng.randint(0, 3))]))


def mutate(doc: Document, rng: random.Random, steps: int | None = None) -> Document:
    """`doc` after 1-4 (or `steps`) random mutations."""
    blocks = list(doc.blocks)
    for _ in range(steps if steps is not None else rng.randint(1, 4)):
        if len(blocks) < 3:
            break
        _apply(blocks, rng.choice(MUTATIONS), rng)
    return Document(with_paths(blocks), doc.title, doc.language)
