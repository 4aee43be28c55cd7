"""Every HTML page the tests and the evaluation extract: the corpus of the extractor's differential test.

`cases()` rebuilds the pages deterministically (seeded noise) from the fixtures and seeds: the clean
seed pages, every noise template on every seed (two renders each), the encodings, every hard page
(edited and unedited), every suspicious fetch and every seed edit inside its noise template.
`python -m tests.support.extract_corpus` writes tests/fixtures/extract_expected.json: per case the hashes of
the Document the extractor makes (all of it, its heading paths, its compared text). It was generated
by the BeautifulSoup extractor before the lxml one replaced it, so the test keeps its meaning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from monitor.core import Document
from monitor.devtools import DEFAULT_FIXTURES, SEED_NAMES, Fixtures, seed_text
from monitor.devtools.evaluate import PAGE_URL, clean_page, encoded_pages, notice_markup
from monitor.extract import extract_document, text_sha256

EXPECTED = Path(__file__).resolve().parent.parent / "fixtures" / "extract_expected.json"
HTML = "text/html; charset=utf-8"


def cases() -> Iterator[tuple[str, bytes, str]]:
    """(name, body, content type) of every page in the corpus, in a stable order."""
    fx = Fixtures(DEFAULT_FIXTURES)
    for seed_id in SEED_NAMES:
        yield f"clean {seed_id}", clean_page(seed_id), HTML
    for template in fx.templates("noise"):
        for seed_id in SEED_NAMES:
            for n in range(2):
                yield (f"{template} [{seed_id}] #{n}",
                       fx.render(template, random.Random(f"{template}:{seed_id}:{n}"), notice=notice_markup(seed_id),
                                 company=SEED_NAMES[seed_id]), HTML)
    encodings = fx.toml("encodings.toml")
    for seed_id in list(SEED_NAMES)[:2]:
        text = seed_text(seed_id).rstrip() + "\n\n" + encodings["sentence"] + "\n"
        for name, body, header in encoded_pages(encodings, seed_id, text):
            yield f"{name} [{seed_id}]", body, header
    for template in fx.templates("hard"):
        context = {"notice": notice_markup("ismt"), "company": SEED_NAMES["ismt"]}
        for edited, n in ((False, 0), (False, 1), (False, 2), (True, 3)):
            yield (f"{template} edited={edited} #{n}",
                   fx.render(template, random.Random(f"{template}:{edited}:{n}"), edited=edited, **context), HTML)
    for case in fx.toml("suspicious.toml")["case"]:
        seed_id = case.get("seed", "ismt")
        text = seed_text(seed_id)
        keep = case.get("keep_share")
        truncated = text[: int(len(text) * keep)] if keep else text
        yield (f"{case['file']} ({case.get('what', '')})",
               fx.render(case["file"], random.Random(case["file"]), notice=notice_markup(seed_id, truncated),
                         company=SEED_NAMES[seed_id]), HTML)
    noise = fx.templates("noise")
    for index, edit in enumerate(fx.toml("edits.toml")["edit"]):
        text = seed_text(edit["seed"])
        edited = text.replace(edit["old"], edit["new"], 1)
        template = noise[index % len(noise)]
        for n, version in enumerate((text, edited)):
            yield (f"edit {index} {edit['what']} #{n}",
                   fx.render(template, random.Random(f"edit{index}:{n}"), notice=notice_markup(edit["seed"], version),
                             company=SEED_NAMES[edit["seed"]]), HTML)
    yield ("layout.html", fx.render("layout.html", random.Random("layout"), notice=notice_markup("ismt"),
                                    company=SEED_NAMES["ismt"]), HTML)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def fingerprint(document: Document) -> dict:
    """What must stay equal: the whole document, its heading paths, its compared text, its size.

    `page_language` (the page's own lang attribute, added after the freeze for the date finder) is
    left out of the whole-document hash; tests/test_dates_languages.py covers it."""
    frozen_fields = dataclasses.replace(document, page_language=None)
    return {"document": _sha(frozen_fields.to_json()), "text_sha256": text_sha256(document),
            "heading_paths": _sha(json.dumps([b.heading_path for b in document.blocks], ensure_ascii=False)),
            "blocks": len(document.blocks)}


def current() -> dict[str, dict]:
    """The fingerprint of every case as the extractor makes it now."""
    out = {}
    for name, body, content_type in cases():
        out[name] = {"body": hashlib.sha256(body).hexdigest()[:24],
                     **fingerprint(extract_document(body, content_type, url=PAGE_URL))}
    return out


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(current(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED}", file=sys.stderr)
