"""Whole-page evaluation with a held-out part (issue 13): dates and per-request tokens.

tests/fixtures/pages/ holds realistic whole pages (Jinja templates over one site layout) in two
sets, split before any rule was tuned: `tuning/` (rules may be adjusted against it) and `heldout/`
(never looked at while tuning; its score says how the rules do on pages they were not built on).
Each set's `cases.toml` lists its pages:

- kind = "date": the notice's own date statement must be read as `expect` (with `precision`),
  or not at all when `expect` is empty; `configured` is the source's configured language (which
  may be absent or wrong), `fetched` the day of the fetch;
- kind = "volatile": the page renders per-request tokens (ids, counters, hashes, link tokens,
  entity and percent-encoding variants). Re-fetches must give no change; the `edited` rendering
  (one real edit, often next to a token) must.

The figures per set: false alarms, misses, and dates right / wrong / missed per language.
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from monitor.core import Document
from monitor.dates import find_notice_date
from monitor.devtools.evaluate import Noise
from monitor.devtools.evaluate_history import replay_history
from monitor.diff import Site, learn, masked_sha256, merge
from monitor.extract import comparison_text, extract_document

SETS = ("tuning", "heldout")
DEFAULT_FETCHED = dt.date(2026, 12, 1)
DEFAULT_URL = "https://www.example.org/privacy"
MENU = ("Home", "Products", "About us", "Contact")


@dataclass
class SetScore:
    """The figures of one fixture set."""

    name: str
    refetches: int = 0
    false_alarms: list[str] = field(default_factory=list)
    edits: int = 0
    misses: list[str] = field(default_factory=list)
    dates: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: {"right": 0, "wrong": 0,
                                                                                           "missed": 0}))
    date_failures: list[str] = field(default_factory=list)
    content_pages: int = 0
    wrong_choices: list[str] = field(default_factory=list)
    chrome_phrases: int = 0
    chrome_kept: list[str] = field(default_factory=list)
    notice_phrases: int = 0
    notice_lost: list[str] = field(default_factory=list)
    history_cases: int = 0
    history_wrong: list[str] = field(default_factory=list)

    def date_total(self, key: str) -> int:
        return sum(row[key] for row in self.dates.values())

    def summary(self) -> str:
        per_language = ", ".join(f"{lang} {row['right']}/{row['wrong']}/{row['missed']}"
                                 for lang, row in sorted(self.dates.items()))
        return (f"{self.name}: false alarms {len(self.false_alarms)} of {self.refetches} re-fetches; "
                f"misses {len(self.misses)} of {self.edits} edits; dates right {self.date_total('right')}, "
                f"wrong {self.date_total('wrong')}, missed {self.date_total('missed')} "
                f"(right/wrong/missed: {per_language}); content: wrong choices {len(self.wrong_choices)} of "
                f"{self.content_pages} pages, chrome kept {len(self.chrome_kept)} of {self.chrome_phrases} phrases, "
                f"notice text lost {len(self.notice_lost)} of {self.notice_phrases} phrases; "
                f"histories wrong {len(self.history_wrong)} of {self.history_cases}")

    def details(self) -> list[str]:
        return ([f"  false alarm: {x}" for x in self.false_alarms] + [f"  missed change: {x}" for x in self.misses]
                + [f"  date: {x}" for x in self.date_failures] + [f"  wrong content: {x}" for x in self.wrong_choices]
                + [f"  chrome kept: {x}" for x in self.chrome_kept]
                + [f"  notice text lost: {x}" for x in self.notice_lost]
                + [f"  history: {x}" for x in self.history_wrong])


class PageSet:
    """One fixture set: renders its pages as a site would serve them."""

    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name = root, name
        # Fixture templates are our own test pages, never shown to users.
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root.parent)),  # noqa: S701
                                      undefined=jinja2.StrictUndefined)
        with (root / name / "cases.toml").open("rb") as handle:
            self.cases: list[dict] = tomllib.load(handle)["case"]

    def render(self, case: dict, request: int, *, edited: bool = False, variant: str = "") -> bytes:
        rng = random.Random(f"{self.name}:{case['file']}:{request}:{edited}")
        template = self.env.get_template(f"{self.root.name}/{self.name}/{case['file']}")
        return template.render(lang=case["lang"], company=case["company"], title=case["title"], menu=MENU,
                               noise=Noise(rng), edited=edited, variant=variant).encode("utf-8")

    def document(self, case: dict, request: int, *, edited: bool = False) -> Document:
        return extract_document(self.render(case, request, edited=edited), "text/html; charset=utf-8",
                                language=case.get("configured"), url=case.get("url", DEFAULT_URL))


def judge_refetch(version: Document, fetches: list[Document], sites: list[Site]) -> tuple[bool, list[Site]]:
    """Whether the monitor reports a change, replaying its protocol: a fetch that differs from the
    version (volatile sites masked) is confirmed by a second fetch; what differs between the two is
    learned as volatile before comparing. Returns the verdict and the sites known afterwards."""
    first = fetches[0]
    if masked_sha256(first, sites) == masked_sha256(version, sites):
        return False, sites
    sites = merge(sites, learn(first, fetches[1]))
    return masked_sha256(fetches[1], sites) != masked_sha256(version, sites), sites


def score_set(pages: PageSet) -> SetScore:
    score = SetScore(pages.name)
    for case in pages.cases:
        language = case["lang"].split("-")[0].lower()
        if case["kind"] == "date":
            _score_date(pages, case, language, score)
        elif case["kind"] == "content":
            _score_content(pages, case, score)
        elif case["kind"] == "history":
            _score_history(pages, case, score)
        elif case["kind"] == "volatile":
            version = pages.document(case, 0)
            sites: list[Site] = []
            for start in (1, 4):
                score.refetches += 1
                changed, sites = judge_refetch(version, [pages.document(case, n) for n in (start, start + 1)], sites)
                if changed:
                    score.false_alarms.append(f"{case['file']} (request {start})")
            score.edits += 1
            changed, _ = judge_refetch(version, [pages.document(case, n, edited=True) for n in (7, 8)], sites)
            if not changed:
                score.misses.append(case["file"])
    return score


def _score_date(pages: PageSet, case: dict, language: str, score: SetScore) -> None:
    fetched = dt.date.fromisoformat(case["fetched"]) if case.get("fetched") else DEFAULT_FETCHED
    document = pages.document(case, 0)
    found = find_notice_date(document, case.get("configured"), today=fetched)
    expect = case.get("expect") or None
    row = score.dates[language]
    got = f"{found.value} {found.precision} ({found.sentence[:60]!r})" if found and found.value else \
        (f"label {found.label}" if found else "none")
    if expect is None:
        outcome = "right" if found is None or found.value is None and not found.label else "wrong"
    elif found is None or found.value is None:
        outcome = "missed"
    else:
        outcome = "right" if (found.value.isoformat(), found.precision) == (expect, case.get("precision")) \
            else "wrong"
    row[outcome] += 1
    if outcome != "right":
        score.date_failures.append(f"{case['file']}: expected {expect} {case.get('precision', '')}, got {got}")


def _score_content(pages: PageSet, case: dict, score: SetScore) -> None:
    document = pages.document(case, 0)
    text = comparison_text("\n".join(block.text for block in document.blocks))
    kept = [p for p in case["keep"] if comparison_text(p) in text]
    lost = [p for p in case["keep"] if p not in kept]
    chrome = [p for p in case.get("drop", []) if comparison_text(p) in text]
    score.content_pages += 1
    score.notice_phrases += len(case["keep"])
    score.chrome_phrases += len(case.get("drop", []))
    if len(kept) * 2 < len(case["keep"]):
        score.wrong_choices.append(f"{case['file']} ({case.get('class', '')}): kept {len(kept)} of "
                                   f"{len(case['keep'])} notice phrases, starts {text[:70]!r}")
    score.notice_lost.extend(f"{case['file']}: {p!r}" for p in lost)
    score.chrome_kept.extend(f"{case['file']}: {p!r}" for p in chrome)


def _score_history(pages: PageSet, case: dict, score: SetScore) -> None:
    reported = replay_history(lambda variant, request: pages.render(case, request, variant=variant),
                              case["cycles"], case.get("configured"))
    score.history_cases += 1
    cycles = [number for number, _ in reported]
    flags = [flag for _, found in reported for flag in found]
    if cycles != case["reported"] or (case.get("flag") and case["flag"] not in flags):
        score.history_wrong.append(f"{case['file']}: reported in cycles {cycles} (flags {flags}), expected "
                                   f"{case['reported']}" + (f" with {case['flag']}" if case.get("flag") else ""))


def evaluate_pages(root: Path, sets: tuple[str, ...] = SETS) -> list[SetScore]:
    """Score every set under `root` (tests/fixtures/pages)."""
    return [score_set(PageSet(root, name)) for name in sets if (root / name / "cases.toml").is_file()]
