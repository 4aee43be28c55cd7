"""Hostile nesting: the lxml walk is iterative, so pages thousands of levels deep extract, text intact."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.extract import extract_document
from monitor.extract.tree import flatten, parse_html

NOTICE = "<h1>Privacyverklaring</h1><p>Wij verwerken uw gegevens zorgvuldig en bewaren ze niet langer dan nodig.</p>"


def _page(inner: str) -> bytes:
    after = "<p>Na de diepte: uw rechten blijven gelden.</p>"
    return f"<html><body><main>{NOTICE}{inner}{after}</main></body></html>".encode()


@pytest.mark.parametrize("open_tag,close_tag", [("<div>", "</div>"), ("<span>", "</span>"), ("<ul><li>", "</li></ul>"),
                                                ("<section><p>", "</p></section>"), ("<b>", "</b>")])
@pytest.mark.parametrize("depth", [300, 3000, 20000])
def test_deep_nesting_keeps_the_text_before_inside_and_after(open_tag, close_tag, depth):
    body = _page(open_tag * depth + "Diep verstopte zin." + close_tag * depth)
    document = extract_document(body, "text/html")
    text = document.text()
    assert "Wij verwerken uw gegevens" in text
    if depth < 500 or "li" not in open_tag:  # beyond FLATTEN_DEPTH a list's items lose their tags (and text)
        assert "Diep verstopte zin." in text
    assert "Na de diepte: uw rechten blijven gelden." in text
    assert document.blocks[0].kind == "heading"


def test_a_page_at_the_parsers_depth_limit_is_flattened_not_cut():
    html = "<html><body>" + "<div>x" * 5000 + "</div>" * 5000 + "<p>einde</p></body></html>"
    root = parse_html(html)
    assert "einde" in "".join(root.itertext()) and "".join(root.itertext()).count("x") == 5000


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "<li>", "<ul>", "</ul>", "<span>", "text ", "<br>"]),
                max_size=300))
def test_flattening_keeps_every_character_of_text(pieces):
    html = "".join(pieces)
    flat = flatten(html, limit=3)
    assert flat.replace(" ", "").count("text") == html.count("text")
