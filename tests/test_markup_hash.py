"""Issue 14: a body that differs from the last good one only where extraction never reads (a script's nonce,
a style, a comment, a meta token) is recorded unchanged without being extracted; its markup hash stands for
its Document. Any difference the later rules can read is a different hash, and is extracted and compared."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from monitor.config import load_config
from monitor.devtools import NoticeSite, SitePage, notice_html_body, page_html
from monitor.devtools.evaluate import PAGE_URL
from monitor.extract import extract_page, rules_version
from monitor.store import open_db
from monitor.store.models import Blob, Fetch
from tests.support.extract_corpus import cases


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# The corpus's UTF-8 HTML pages (the tests edit them as text; the encodings cases are other charsets).
HTML_CASES = [(name, body) for name, body, content_type in cases()
              if content_type.startswith("text/html") and "charset=utf-8" in content_type.lower() and _utf8(body)]
# Text that cannot end the element it is put in (no "<"), nor its attribute (no quotes).
NOISE = st.text(st.characters(blacklist_characters='<>"&\'', blacklist_categories=("Cs",)), max_size=40)


# Markup the `markup` noise rules remove, carrying the noise; the first HEAD_KINDS of them are allowed in
# <head>. An <iframe> there ends the head in the HTML parser (the page's tree itself changes shape: the
# hash differs and the page is extracted in full, which is safe, only slower), so it goes in the body only.
NEVER_READ = ('<script nonce="{0}">window.__t = "{0}";</script>', "<style>/* {0} */ p {{}}</style>", "<!-- {0} -->",
              '<meta name="csrf-token" content="{0}">', '<link rel="stylesheet" href="/app.css?v={0}">',
              "<noscript>{0}</noscript>", "<template><p>{0}</p></template>", '<iframe src="/frame?{0}"></iframe>')
HEAD_KINDS = 7


def _never_read(noise: str, kind: int) -> str:
    """A piece of markup the `markup` noise rules remove, carrying `noise`."""
    return NEVER_READ[kind].format(noise)


def _tag_boundaries(html: str) -> list[int]:
    """Places between two tags of the page's own markup (outside scripts and styles): where a tag can go."""
    raw_text = re.finditer(r"<(script|style|textarea|title)\b.*?</\1\s*>", html, re.S | re.I)
    blocked = [(m.start(), m.end()) for m in raw_text]
    return [m.end() for m in re.finditer(r"</(p|div|li|h[1-6]|section|ul|ol|table|header|nav)>|<body[^>]*>", html)
            if not any(a <= m.end() < b for a, b in blocked)]


def _markup(body: bytes, known: str | None = None):
    return extract_page(body, "text/html; charset=utf-8", url=PAGE_URL, known_markup=known)


@settings(max_examples=100, deadline=None)
@given(case=st.sampled_from(HTML_CASES), data=st.data())
def test_what_extraction_never_reads_leaves_the_markup_hash_and_the_document_alone(case, data):
    _, body = case
    html = body.decode("utf-8", "replace")
    places = _tag_boundaries(html)
    head = html.lower().find("</head>")
    for _ in range(data.draw(st.integers(1, 4))):
        in_head = head >= 0 and data.draw(st.booleans())
        where = head if in_head else data.draw(st.sampled_from(places)) if places else len(html)
        kinds = HEAD_KINDS if in_head else len(NEVER_READ)
        piece = _never_read(data.draw(NOISE), data.draw(st.integers(0, kinds - 1)))
        html = html[:where] + piece + html[where:]
        places = [p + len(piece) if p >= where else p for p in places]
        head = head + len(piece) if head >= where else head
    noisy = html.encode("utf-8")
    before, after = _markup(body), _markup(noisy)
    assert after.markup_sha256 == before.markup_sha256
    assert after.document == before.document
    skipped = _markup(noisy, known=before.markup_sha256)
    assert skipped.document is None and skipped.markup_sha256 == before.markup_sha256


@settings(max_examples=100, deadline=None)
@given(case=st.sampled_from(HTML_CASES), data=st.data())
def test_a_difference_the_later_rules_can_read_is_a_different_markup_hash(case, data):
    _, body = case
    html = body.decode("utf-8", "replace")
    places = _tag_boundaries(html)
    where = data.draw(st.sampled_from(places)) if places else len(html)
    word = data.draw(st.text(st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=12))
    piece = data.draw(st.sampled_from([f"<p>{word}</p>", f'<div class="{word}"></div>', f"<span>{word}</span>",
                                       f'<a href="/{word}">x</a>']))
    edited = (html[:where] + piece + html[where:]).encode("utf-8")
    before = _markup(body)
    after = _markup(edited, known=before.markup_sha256)
    assert after.markup_sha256 != before.markup_sha256
    assert after.document is not None  # extracted in full, then compared as any new text is


def test_the_markup_hash_covers_the_rules_the_address_and_the_language():
    body = HTML_CASES[0][1]
    base = extract_page(body, "text/html", url=PAGE_URL).markup_sha256
    assert base is not None
    assert extract_page(body, "text/html", url=PAGE_URL + "#section-2").markup_sha256 != base
    assert extract_page(body, "text/html", url=PAGE_URL, language="de").markup_sha256 != base
    assert extract_page(body, "text/html", url=PAGE_URL, remove=[".x"]).markup_sha256 != base
    assert rules_version(remove=[".x"]) != rules_version()
    assert extract_page(b"Plain text notice.\n\nSecond paragraph.", "text/plain").markup_sha256 is None


# A cycle in its own process that writes one line per page the extractor walked past its markup rules: the
# registered `page` rule below runs only when a body is extracted in full (in whichever worker process).
COUNTED_CYCLE = """
import json, os, sys
import monitor.extract.noise
from monitor.config import load_config
from monitor.schedule import run_cycle

@monitor.extract.noise.rule("count-extractions", "page")
def count(tree):
    with open(os.environ["EXTRACTIONS_LOG"], "a") as log:
        log.write((tree.url or "") + "\\n")

print(json.dumps(run_cycle(load_config(sys.argv[1])).to_dict()))
"""


def _counted_cycle(config: Path, log: Path) -> tuple[dict, list[str]]:
    log.write_text("")
    result = subprocess.run([sys.executable, "-c", COUNTED_CYCLE, str(config)], capture_output=True, text=True,
                            timeout=180, check=False, env={**os.environ, "EXTRACTIONS_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), log.read_text().split()


def _noisy(visible_nonce: bool):
    """A per-request body: every request carries fresh tokens where extraction never reads; with
    `visible_nonce` one also sits on an attribute of the notice's own markup."""

    def render(page: SitePage, hit: int) -> bytes:
        token = os.urandom(8).hex()
        html = page_html(page.company, notice_html_body(page.text), lang=page.lang)
        html = html.replace("</head>", _never_read(token, 0) + _never_read(token, 3) + _never_read(token, 4)
                            + "</head>", 1)
        html = html.replace("<body", f"<!-- rendered {hit} {token} --><body", 1)
        if visible_nonce:
            html = html.replace("<main", f'<main data-request="{token}"', 1)
        return html.encode("utf-8")

    return render


def test_a_new_body_with_the_last_good_markup_is_unchanged_without_extraction(tmp_path, db_url):
    log = tmp_path / "extractions.log"
    with NoticeSite(validators=False) as site:
        for page in site.pages.values():
            page.renderer = _noisy(visible_nonce=False)
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
        first, walked = _counted_cycle(config, log)
        assert first["new"] == 5 and len(walked) == 5
        second, walked = _counted_cycle(config, log)
        assert second["unchanged"] == 5 and second["changed"] == 0 and second["failed"] == {}, second
        assert walked == []  # five new bodies, none extracted
        site.edit("ismt", "persoonsgegevens", "gegevens van klanten")  # a real edit among the tokens
        third, walked = _counted_cycle(config, log)
        assert third["changed"] == 1 and third["unchanged"] == 4, third
        assert walked and {url.rsplit("/", 1)[1] for url in walked} == {"ismt"}  # it, and its confirmation
        for page in site.pages.values():  # a token on the notice's own markup: read by the later rules
            page.renderer = _noisy(visible_nonce=True)
        fourth, walked = _counted_cycle(config, log)
        assert fourth["unchanged"] == 5 and fourth["changed"] == 0, fourth
        assert len(walked) == 5  # extracted in full, and the text compared equal
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        fetches = session.exec(select(Fetch).order_by(Fetch.id)).all()
        blobs = session.exec(select(Blob.sha256)).all()
    assert len(fetches) == 20  # 4 cycles of 5 (a confirmation is recorded as the fetch it confirms)
    assert all(f.markup_sha256 for f in fetches) and len({f.blob_sha256 for f in fetches}) == 20
    assert set(blobs) >= {f.blob_sha256 for f in fetches}  # every new body archived and in the blob table
    by_source: dict[str, list[Fetch]] = {}
    for fetch in fetches:
        by_source.setdefault(fetch.source_id, []).append(fetch)
    for source_id, rows in by_source.items():
        if source_id != "ismt":
            assert rows[0].markup_sha256 == rows[1].markup_sha256 == rows[2].markup_sha256 != rows[3].markup_sha256
