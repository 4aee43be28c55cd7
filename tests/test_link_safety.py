"""Only safe link targets reach the stored text (issue 16): schemes are read after removing white
space, control and invisible characters, and only http, https, mailto and tel targets are kept."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.extract.html import extract_document
from monitor.extract.noise import SAFE_SCHEMES, link_scheme, link_target

PAGE = "https://www.example.nl/privacy"
HIDERS = ["\t", "\n", "\r", " ", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "\u200b", "\u200e", "\ufeff", "\u2028"]


def test_hostile_schemes_keep_only_the_label():
    for href in ("javascript:alert(1)", "java\tscript:alert(1)", " \x01JaVaScRiPt:alert(1)", "vbscript:msgbox(1)",
                 "data:text/html;base64,PHNjcmlwdD4=", "java\u200bscript:x", "file:///etc/passwd", "jav\x00ascript:x"):
        assert link_target(href, PAGE) is None, href
    assert link_target("mailto: dpo@x.nl", PAGE) == "mailto:dpo@x.nl"
    assert link_target("tel:+31 20 123", PAGE) == "tel:+3120123"
    assert link_target("https://other.example.com/a", PAGE) == "https://other.example.com/a"
    assert link_target("/cookies", PAGE) == "/cookies"


@st.composite
def hostile_hrefs(draw) -> str:
    scheme = draw(st.sampled_from(["javascript", "vbscript", "data", "JaVaScRiPt", "VBScript", "DATA"]))
    body = draw(st.sampled_from(["alert(1)", "text/html,<script>alert(1)</script>", "msgbox(1)", "x"]))
    chars = list(scheme + ":")
    for _ in range(draw(st.integers(0, 4))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(HIDERS)))
    lead = "".join(draw(st.lists(st.sampled_from(HIDERS), max_size=3)))
    # In the HTML source any character may be written as a character reference.
    written = [f"&#{ord(c)};" if draw(st.booleans()) and c not in "\x00" else html.escape(c) for c in chars]
    colon = draw(st.sampled_from([":", "&colon;", "&#58;", "&#x3a;"]))
    return lead + "".join(written[:-1]) + colon + html.escape(body)


@settings(max_examples=200, deadline=None)
@given(hostile_hrefs(), st.sampled_from(["p", "li", "td"]))
def test_no_stored_markdown_holds_an_unsafe_target(href, tag):
    wrapper = {"p": "{}", "li": "<ul>{}</ul>", "td": "<table><tr>{}</tr></table>"}[tag]
    inner = f'<{tag}>Bezwaar maken kan via <a href="{href}">dit formulier</a> of per post.</{tag}>'
    page = f"<html><body><main><h1>Privacy</h1>{wrapper.format(inner)}</main></body></html>"
    markdown = extract_document(page.encode(), "text/html; charset=utf-8", url=PAGE).markdown()
    assert "dit formulier" in markdown
    for target in re.findall(r"\]\(([^)]*)\)", markdown):
        assert link_scheme(target) in (*SAFE_SCHEMES, None), target
    flat = re.sub(r"[\W_]+", "", markdown.lower())
    assert "javascript" not in flat and "vbscript" not in flat and "datatext" not in flat
