"""Render one digest of 1,000 changed clauses across 200 notices (text + HTML + MIME); target < 1 s.

Clauses are real paragraphs of the seed notices with word-level edits (insertions, deletions and
replacements), so the word differ and the templates do realistic work.
Run: PYTHONPATH=. python bench/digest.py
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from email.policy import SMTP

from monitor.config import SubscriptionConfig
from monitor.devtools import seed_texts
from monitor.digest import build_digest, build_message

TARGET_SECONDS = 1.0
NOTICES, CLAUSES_PER_NOTICE = 200, 5


def edit(paragraph: str, rng: random.Random) -> str:
    words = paragraph.split(" ")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(words))
        choice = rng.random()
        if choice < 0.4:
            words.insert(i, rng.choice(["niet", "ook", "buiten de EER", "zeven jaar", "derden"]))
        elif choice < 0.7 and len(words) > 3:
            del words[i]
        else:
            words[i] = words[i].upper()
    return " ".join(words)


def records(rng: random.Random) -> list[dict]:
    paragraphs = [p.strip() for text in seed_texts().values() for p in text.split("\n\n") if len(p.strip()) > 80]
    out = []
    for n in range(NOTICES):
        clauses = []
        for c in range(CLAUSES_PER_NOTICE):
            old = rng.choice(paragraphs)
            clauses.append({"kind": "modified", "heading_path": ["PRIVACYVERKLARING", f"ARTIKEL {c + 1}"],
                            "old_text": old, "new_text": edit(old, rng),
                            "significance": rng.choice(["material", "minor"]), "tags": ["retention"]})
        out.append({"id": n + 1, "source": f"notice-{n:03d}", "source_name": f"Company {n:03d} B.V.",
                    "url": f"https://notice-{n:03d}.example/privacy", "detected_at": "2026-03-01T06:00:00Z",
                    "old_version": 1, "new_version": 2, "significance": "material", "cosmetic_only": False,
                    "clauses": clauses, "flags": {"silent_change": n % 7 == 0}})
    return out


def main() -> None:
    sub = SubscriptionConfig(name="bench", to=["privacy@example.org"], min_significance="minor")
    data = records(random.Random(4))
    now = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)
    build_message(build_digest(sub, data[:2], [], now=now, since=None, base_url=None), sub, None)  # warm templates
    timings, size = [], 0
    for _ in range(5):
        start = time.perf_counter()
        view = build_digest(sub, data, [], now=now, since=None, base_url="https://nw.example")
        message = build_message(view, sub, None)
        size = len(message.as_bytes(policy=SMTP))
        timings.append(time.perf_counter() - start)
    clauses = sum(len(c.clauses) for n in view.notices for c in n.changes)
    best, median = min(timings), statistics.median(timings)
    print(f"digest of {clauses} clauses across {len(view.notices)} notices: median {median:.3f} s, best {best:.3f} s, "
          f"message {size / 1024:.0f} KiB")
    print(f"target {TARGET_SECONDS:.1f} s: median/target = {median / TARGET_SECONDS:.2f} "
          f"({'met' if median < TARGET_SECONDS else 'NOT met'})")


if __name__ == "__main__":
    main()
