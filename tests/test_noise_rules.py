"""Unit and property tests of the noise rules (monitor/normalize.py) and the extractor around them."""

from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.devtools.evaluate import cfemail_encode
from monitor.extract.html import decode_body, extract_document
from monitor.extract.noise import RULES, comparison_text, decode_cfemail, link_target, normalise_text

PAGE = "https://www.example.nl/privacy"
FILLER = "<p>" + "Wij verwerken persoonsgegevens zorgvuldig en volgens de wet. " * 8 + "</p>"


def texts(html: str, url: str = PAGE) -> list[str]:
    return [b.text for b in extract_document(html.encode(), "text/html; charset=utf-8", url=url).blocks]


def test_every_rule_is_documented_and_listed_in_order():
    assert len(RULES) >= 10
    for rule in RULES.values():
        assert len(rule.doc) > 40, rule.name


def test_cloudflare_email_is_decoded_into_the_text_and_link():
    hexed = cfemail_encode("privacy@ismt-bv.com", random.Random(1))
    html = (f'<main><p>Mail <a href="/cdn-cgi/l/email-protection#{hexed}"><span class="__cf_email__" '
            f'data-cfemail="{hexed}">[email&#160;protected]</span></a>.</p></main>')
    assert texts(html) == ["Mail [privacy@ismt-bv.com](mailto:privacy@ismt-bv.com)."]


def test_mailto_tel_and_document_links_are_content_fragment_links_are_not():
    html = ('<main><p><a href="mailto:dpo@x.nl">Mail ons</a>, <a href="tel:+31 20 123">bel</a>, '
            '<a href="https://x.nl/subverwerkers.pdf?utm_source=a&amp;gclid=b">lijst</a>, '
            '<a href="#rechten">rechten</a>, <a href="javascript:void(0)">print</a>.</p></main>')
    assert texts(html) == ["[Mail ons](mailto:dpo@x.nl), [bel](tel:+3120123), "
                           "[lijst](https://x.nl/subverwerkers.pdf), rechten, print."]


def test_same_site_links_are_paths_whatever_their_spelling():
    targets = {link_target(href, PAGE) for href in ("/cookies", "https://www.example.nl/cookies",
                                                    "http://example.nl/cookies?utm_medium=x", "cookies")}
    assert len(targets - {"cookies"}) == 1 and "/cookies" in targets


@settings(max_examples=80, deadline=None)
@given(path=st.text(string.ascii_lowercase + "/-", min_size=1, max_size=20),
       keep=st.dictionaries(st.sampled_from(["page", "lang", "id", "q"]), st.text(string.ascii_lowercase, max_size=5)),
       noise=st.dictionaries(st.sampled_from(["utm_source", "utm_campaign", "gclid", "fbclid", "mc_eid", "_ga",
                                              "jsessionid", "csrf_token", "nonce", "mc_cid"]),
                             st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)))
def test_tracking_parameters_never_change_a_link_target(path, keep, noise):
    from urllib.parse import urlencode

    base = "https://other.example.com/" + path.lstrip("/")
    clean = base + ("?" + urlencode(keep) if keep else "")
    noisy = base + "?" + urlencode({**keep, **noise}) if (keep or noise) else base
    assert link_target(noisy, PAGE) == link_target(clean, PAGE)


@settings(max_examples=100, deadline=None)
@given(address=st.emails(), key_seed=st.integers(0, 10_000))
def test_cloudflare_decoding_inverts_encoding_for_any_address_and_key(address, key_seed):
    assert decode_cfemail(cfemail_encode(address, random.Random(key_seed))) == address


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.text(string.ascii_letters + "éëï€.,;:'", min_size=1, max_size=12), min_size=1, max_size=12),
       junk=st.lists(st.sampled_from(["\u00a0", "\u200b", "\u00ad", "\ufeff", "  ", "\n", "\t", "\u2009", "\u202f"]),
                     min_size=1, max_size=12),
       seed=st.integers(0, 1000))
def test_invisible_characters_and_white_space_never_change_the_text(words, junk, seed):
    rng = random.Random(seed)
    plain = " ".join(words)
    noisy = ""
    for index, word in enumerate(words):
        noisy += (" " if index else "") + word + (rng.choice(junk) if rng.random() < 0.5 else "")
    noisy = noisy.replace(" ", rng.choice([" ", "\u00a0", "  ", "\n"]))
    assert normalise_text(noisy) == normalise_text(plain)
    assert normalise_text(normalise_text(noisy)) == normalise_text(noisy)


def test_quotes_dashes_and_ellipsis_compare_equal_but_words_do_not():
    curly, straight = "ISMT’s “meer details” – 2018—2020…", "ISMT's \"meer details\" - 2018-2020..."
    assert comparison_text(curly) == comparison_text(straight)
    assert comparison_text("meer details") != comparison_text("minder details")


def test_page_meta_is_removed_but_the_notices_own_date_is_kept():
    assert normalise_text("Pagina gegenereerd op 25-11-2026 om 13:45:12.") == ""
    assert normalise_text("Leestijd: 6 minuten · 4.312 keer bekeken") == ""
    assert normalise_text("Tekst. U bent bezoeker nummer 12.345! Meer tekst.") == "Tekst. Meer tekst."
    for kept in ("Laatst gewijzigd op 7 mei 2018.", "Vandaag is privacy belangrijker dan ooit. Wij doen 5 dingen.",
                 "Wij bewaren gegevens 7 jaar.", "Deze pagina beschrijft hoe wij 3 soorten gegevens gebruiken."):
        assert normalise_text(kept) == kept


def test_consent_banners_go_but_a_cookie_section_of_the_notice_stays():
    html = ('<body><div id="cookie-banner"><p>Wij gebruiken cookies.</p><button>Accepteren</button></div>'
            '<main><section id="cookies" class="notice-section"><h2>Cookies</h2>'
            '<p>Wij plaatsen analytische cookies. U kunt cookies weigeren via <a class="btn" href="/c">uw '
            'instellingen</a>.</p></section>' + FILLER + '</main>'
            '<div class="x1"><p>Deze site gebruikt cookies.</p><button>Akkoord</button><button>Weigeren</button></div>'
            '</body>')
    got = texts(html)
    assert got[0] == "Cookies" and got[1].startswith("Wij plaatsen analytische cookies.")
    assert not any("Deze site gebruikt" in t or "Wij gebruiken cookies" in t for t in got)


def test_a_form_wrapping_the_whole_page_keeps_the_notice():
    html = ('<body><form id="aspnetForm"><input type="hidden" name="__VIEWSTATE" value="abc">'
            '<h1>Privacy Statement</h1>' + FILLER + '</form></body>')
    assert texts(html)[0] == "Privacy Statement" and len(texts(html)) == 2


def test_hidden_panels_stay_decorative_aria_hidden_goes():
    html = ('<main><h2><button aria-expanded="false" aria-controls="p1">Delen<span aria-hidden="true">+</span>'
            '</button></h2><div id="p1" hidden aria-hidden="true"><p>Wij delen niets.</p></div>'
            '<details><summary>meer details</summary><p>Vier weken.</p></details>'
            '<div role="tabpanel" aria-hidden="true" style="display:none"><p>Tab twee.</p></div></main>')
    assert texts(html) == ["Delen", "Wij delen niets.", "meer details", "Vier weken.", "Tab twee."]


def test_br_and_separate_paragraphs_are_the_same_blocks():
    assert texts("<main><p>Een<br>Twee</p></main>") == texts("<main><p>Een</p><p>Twee</p></main>")
    assert texts("<main><p><b>Een</b> twee</p></main>") == texts("<main><p><strong>Een</strong> twee</p></main>")


def test_tables_definition_lists_and_footnotes_are_kept():
    html = ('<main><table><tr><th>Gegevens</th><th>Termijn</th></tr><tr><td>Facturen</td><td>7 jaar</td></tr></table>'
            '<dl><dt>Verwerker</dt><dd>Partij die verwerkt.</dd></dl>'
            '<section class="footnotes"><ol><li id="fn1">Art. 6 AVG. <a href="#r1">↩</a></li></ol></section></main>')
    assert texts(html) == ["Gegevens | Termijn", "Facturen | 7 jaar", "Verwerker", "Partij die verwerkt.",
                           "Art. 6 AVG. ↩"]


def test_decoding_prefers_valid_utf8_then_declarations_then_windows_1252():
    text = "café € reünie"
    assert decode_body(text.encode("utf-8"), "text/html; charset=iso-8859-1") == text
    assert decode_body(b"\xef\xbb\xbf" + text.encode("utf-8"), None) == text
    assert decode_body(text.encode("cp1252"), "text/html; charset=utf-8") == text
    assert decode_body(text.encode("cp1252"), "text/html; charset=iso-8859-1") == text
    assert decode_body(b'<meta charset="windows-1252">' + text.encode("cp1252"), None).endswith(text)


def test_every_page_meta_pattern_needs_a_digit():
    """drop_page_meta skips blocks without a digit; that is only right while every pattern needs one."""
    from monitor.extract.noise import vocabulary

    for pattern in vocabulary()["page_meta"]["patterns"]:
        assert "\\d" in pattern, pattern


def test_white_space_of_the_text_rule_is_exactly_str_split():
    """drop_invisible joins str.split(); SPACES (the documented white space) must be the same set."""
    import sys

    from monitor.extract.noise import SPACES

    assert all(bool(SPACES.fullmatch(chr(c))) == chr(c).isspace() for c in range(sys.maxunicode + 1))


def test_printable_text_holds_no_white_space_but_the_space_and_no_invisible_character():
    """drop_invisible leaves printable text without doubled or outer spaces as it is; that is only right
    while every other white-space character and every invisible one is non-printable."""
    import sys

    from monitor.extract.noise import INVISIBLE

    assert not any(chr(c).isprintable() for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 0x20)
    assert not any(chr(c).isprintable() for c in INVISIBLE)


@given(st.lists(st.sampled_from([*"ab é", "e\u0301", *"\u00a0\u2009\u00ad\u200b\ufeff\n\t", "  "]), max_size=40)
       .map("".join))
def test_invisible_characters_rule_equals_its_plain_form(text):
    import unicodedata

    from monitor.extract.noise import INVISIBLE, drop_invisible

    plain = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    assert drop_invisible(text) == " ".join(plain.split())
