"""Extraction benchmark: time per page of the noise-aware extractor (plus the suspicious-fetch check)
against the first extractor, on the seed pages with and without noise.

    python bench/noise.py [--baseline fa97128] [--rounds 5]

The baseline is monitor/extract.py as it stood at the given commit (loaded from git), run on the same
pages. Prints ms/page for both and the ratio; the target is at most 1.25x (noise handling may not
cost more than 25 % of the unchanged-cycle throughput, and extraction is only part of a cycle).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.devtools import (  # noqa: E402
    DEFAULT_FIXTURES,
    SEED_NAMES,
    Fixtures,
    notice_html_body,
    page_html,
    seed_text,
)
from monitor.extract import assess_fetch, extract_document, text_sha256  # noqa: E402


def baseline_extractor(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:monitor/extract.py"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_extract.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_extract", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extract_document


def pages() -> list[tuple[str, bytes]]:
    fixtures = Fixtures(DEFAULT_FIXTURES)
    out = []
    for seed_id in SEED_NAMES:
        out.append((f"{seed_id} (demo chrome)", page_html(SEED_NAMES[seed_id], notice_html_body(seed_text(seed_id)))
                    .encode()))
        for template in ("noise/onetrust.html", "noise/scripts-and-tokens.html", "noise/navigation.html"):
            body = fixtures.render(template, random.Random(1), notice=notice_html_body(seed_text(seed_id)),
                                   company=SEED_NAMES[seed_id])
            out.append((f"{seed_id} ({template})", body))
    return out


def timed(funcs: list, bodies: list[bytes], rounds: int) -> list[float]:
    """Best time per page of each function; rounds alternate between them so load spikes hit both."""
    best = [float("inf")] * len(funcs)
    for _ in range(rounds):
        for index, func in enumerate(funcs):
            start = time.perf_counter()
            for body in bodies:
                func(body)
            best[index] = min(best[index], time.perf_counter() - start)
    return [b / len(bodies) for b in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="fa97128", help="git revision of the first extractor")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    old = baseline_extractor(args.baseline)
    bodies = [body for _, body in pages()]

    def current(body: bytes) -> None:
        document = extract_document(body, "text/html; charset=utf-8", url="https://www.example.nl/privacy")
        assess_fetch(document, body, url="https://www.example.nl/privacy", final_url="https://www.example.nl/privacy",
                     previous_chars=document.char_count())
        text_sha256(document)

    def before(body: bytes) -> None:
        text_sha256(old(body, "text/html; charset=utf-8"))

    t_old, t_new = timed([before, current], bodies, args.rounds)
    print(f"extraction benchmark: {len(bodies)} pages (5 seeds, with and without noise), best of {args.rounds}")
    print(f"first extractor ({args.baseline}):        {1000 * t_old:7.2f} ms/page")
    print(f"noise-aware extractor + fetch check: {1000 * t_new:7.2f} ms/page")
    print(f"ratio after/before: {t_new / t_old:.2f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
