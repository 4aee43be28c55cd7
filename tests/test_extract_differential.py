"""The extractor makes exactly the Documents the BeautifulSoup extractor made, on every fixture page.

tests/fixtures/extract_expected.json was written by `python -m tests.support.extract_corpus` with the old
extractor (before the lxml one): same blocks, same heading paths, same compared text, per page.
A deliberate change of the extraction rules regenerates it (and bumps EXTRACTION_RULES).
"""

from __future__ import annotations

import hashlib
import json

from monitor.devtools.evaluate import PAGE_URL
from monitor.extract import extract_document
from tests.support.extract_corpus import EXPECTED, cases, fingerprint


def test_every_corpus_page_gives_the_frozen_document():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    seen, differs = set(), []
    for name, body, content_type in cases():
        seen.add(name)
        want = expected[name]
        assert hashlib.sha256(body).hexdigest()[:24] == want["body"], f"{name}: the corpus page itself changed"
        got = fingerprint(extract_document(body, content_type, url=PAGE_URL))
        if got != {k: v for k, v in want.items() if k != "body"}:
            differs.append(f"{name}: {got} != {want}")
    assert seen == set(expected), "corpus and frozen expectations list different pages"
    assert not differs, "\n".join(differs[:10])
