"""Bodies that are not what they claim (issue 16): binary served as HTML is a failed fetch with a
sentence, never a version; a UTF-8 page with a stray byte stays UTF-8 (one clause touched, not all)."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.devtools.site import NoticeSite, SitePage, page_html, seed_text
from monitor.extract import ExtractionError, decode_body
from monitor.extract.html import extract_document
from monitor.store.db import open_db
from monitor.store.models import Fetch, Version
from tests.support import run_cli

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
TEXT = "Coördinatie: wij reünen ideeën en naïeve café-kosten van € 25,- per verzoek. " * 4


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notice.html", "<p>hallo</p>")
    return out.getvalue()


@pytest.mark.parametrize(("body", "media"), [
    (PNG + bytes(range(256)) * 4, "image/png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(500), "image/jpeg"),
    (b"GIF89a\x10\x00\x10\x00" + bytes(300), "image/gif"), (_zip(), "application/zip"),
    (gzip.compress(b"<html>hi</html>", mtime=0), "application/gzip"),
    (bytes(range(0, 32)) * 40 + b"<html>", "application/octet-stream"),
], ids=["png", "jpeg", "gif", "zip", "gzip", "control-bytes"])
def test_binary_served_as_html_is_not_a_text_document(body, media):
    with pytest.raises(ExtractionError, match=rf"^not a text document \({media}\)$"):
        extract_document(body, "text/html; charset=utf-8")


def test_an_image_media_type_is_not_html_pdf_or_text():
    with pytest.raises(ExtractionError, match=r"^not HTML, PDF or text \(image/svg\+xml\)$"):
        extract_document(b"<svg><text>privacy</text></svg>", "image/svg+xml")


def test_text_with_a_stray_control_byte_and_utf16_still_decode():
    html = f"<html><body><p>{TEXT}\x0b</p></body></html>"
    assert TEXT.strip() in extract_document(html.encode(), "text/html").blocks[0].text
    assert decode_body(b"\xff\xfe" + TEXT.encode("utf-16-le"), None) == TEXT


@given(st.text(min_size=1).filter(lambda t: "\ufffd" not in t and any(ch > "\x7f" for ch in t)),
       st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from([0x80, 0x96, 0xa9, 0xc3, 0xe2, 0xff])),
                min_size=1, max_size=2))
def test_utf8_but_for_a_few_bytes_decodes_as_utf8_with_those_bytes_replaced(text, strays):
    pieces = [ch.encode("utf-8") for ch in text]
    # A stray lead byte next to another stray can itself be valid UTF-8 (0xC3 0x80 is "À"): no decoder
    # can tell, so a lead byte comes alone.
    assume(len(strays) == 1 or not any(byte in (0xC3, 0xE2) for _position, byte in strays))
    for position, byte in sorted(strays, reverse=True):
        pieces.insert(position % (len(pieces) + 1), bytes([byte]))  # between characters
    decoded = decode_body(b"".join(pieces), "text/html; charset=windows-1252")
    assert decoded.replace("\ufffd", "") == text
    assert 1 <= decoded.count("\ufffd") <= len(strays)


def test_legacy_pages_still_decode_as_declared():
    assert decode_body(TEXT.encode("cp1252"), "text/html; charset=utf-8") == TEXT
    assert decode_body(TEXT.encode("latin-1", "replace"), None) == TEXT.replace("€", "?")


def _config(site: NoticeSite, tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "noticewatch.toml"
    sources = "".join(f'[[source]]\nid = "{pid}"\nname = "{p.company}"\nurl = "{site.url_for(pid)}"\n\n'
                      for pid, p in site.pages.items())
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                    f"[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\n\n{sources}", encoding="utf-8")
    return path


def test_a_png_page_fails_and_a_stray_byte_touches_one_clause_end_to_end(tmp_path, db_url):
    clean = page_html("Cetit", "".join(f"<p>{p}</p>" for p in seed_text("cetit").split("\n\n") if p.strip()))
    body = clean.encode("utf-8")
    pages = {"img": SitePage("Img B.V.", "", raw=PNG + bytes(2000)), "stray": SitePage("Cetit", "", raw=body)}
    with NoticeSite(pages=pages, validators=False) as site:
        config = _config(site, tmp_path, db_url)
        first = run_cli(config, "run")
        assert "not a text document (image/png)" in first.stdout + first.stderr
        at = re.search(rb"[\xc2-\xf4][\x80-\xbf]+", body).end()  # after an accented letter, in a clause
        pages["stray"].raw = body[:at] + b"\x96" + body[at:]
        assert run_cli(config, "run").returncode in (0, 1)
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        versions = {v.source_id: v for v in session.exec(select(Version).order_by(Version.number))}
        errors = {f.error for f in session.exec(select(Fetch).where(Fetch.source_id == "img"))}
        stray = session.exec(select(Version).where(Version.source_id == "stray")).all()
    engine.dispose()
    assert "img" not in versions and errors == {"not a text document (image/png)"}
    assert len(stray) == 2 and stray[1].markdown.count("\ufffd") == 1
    changed = [a != b for a, b in zip(stray[0].markdown.split("\n\n"), stray[1].markdown.split("\n\n"), strict=True)]
    assert sum(changed) == 1
