"""Extraction: blocks in reading order with heading paths, chrome left out, selectors obeyed."""

from __future__ import annotations

from monitor.devtools.site import SEED_NAMES, SitePage, seed_texts
from monitor.extract.html import extract_document

PAGE = """<!doctype html><html lang="nl"><head><title>Privacy</title><style>p{}</style></head><body>
<header><nav><a href="/">Home</a><a href="/x">Diensten</a></nav></header>
<div class="cookie-notice"><p>Wij gebruiken cookies.</p><button>OK</button></div>
<main>
 <h1>Privacyverklaring</h1>
 <p>Intro <b>tekst</b> van de verklaring.</p>
 <h2>1. Gegevens</h2>
 <ul><li>Naam<ul><li>Voornaam</li></ul></li><li>E-mail</li></ul>
 <h3>Bewaartermijnen</h3>
 <table><tr><th>Gegeven</th><th>Termijn</th></tr><tr><td>Naam</td><td>2 jaar</td></tr></table>
 <h2>2. Rechten</h2>
 <dl><dt>Inzage</dt><dd>U mag uw gegevens inzien.</dd></dl>
 <div class="share">Deel deze pagina</div>
 <script>var x = "not text";</script>
</main>
<aside>Nieuws</aside><footer>© 2026</footer></body></html>"""


def test_blocks_in_order_with_heading_paths():
    doc = extract_document(PAGE.encode(), "text/html")
    got = [(b.kind, b.text, b.heading_path) for b in doc.blocks]
    assert got == [
        ("heading", "Privacyverklaring", ()),
        ("paragraph", "Intro tekst van de verklaring.", ("Privacyverklaring",)),
        ("heading", "1. Gegevens", ("Privacyverklaring",)),
        ("list_item", "Naam", ("Privacyverklaring", "1. Gegevens")),
        ("list_item", "Voornaam", ("Privacyverklaring", "1. Gegevens")),
        ("list_item", "E-mail", ("Privacyverklaring", "1. Gegevens")),
        ("heading", "Bewaartermijnen", ("Privacyverklaring", "1. Gegevens")),
        ("table_row", "Gegeven | Termijn", ("Privacyverklaring", "1. Gegevens", "Bewaartermijnen")),
        ("table_row", "Naam | 2 jaar", ("Privacyverklaring", "1. Gegevens", "Bewaartermijnen")),
        ("heading", "2. Rechten", ("Privacyverklaring",)),
        ("definition", "Inzage", ("Privacyverklaring", "2. Rechten")),
        ("definition", "U mag uw gegevens inzien.", ("Privacyverklaring", "2. Rechten")),
        ("paragraph", "Deel deze pagina", ("Privacyverklaring", "2. Rechten")),
    ]
    assert [b.level for b in doc.blocks if b.kind == "list_item"] == [1, 2, 1]
    assert doc.language == "nl"


def test_remove_and_select_override_the_default_choice():
    doc = extract_document(PAGE.encode(), "text/html", remove=[".share"])
    assert "Deel deze pagina" not in doc.markdown()
    only_rights = extract_document(PAGE.encode(), "text/html", select=["dl"])
    assert [b.text for b in only_rights.blocks] == ["Inzage", "U mag uw gegevens inzien."]


def test_markdown_rendering_of_a_version():
    markdown = extract_document(PAGE.encode(), "text/html").markdown()
    assert markdown.startswith("# Privacyverklaring\n")
    assert "## 1. Gegevens" in markdown and "### Bewaartermijnen" in markdown
    assert "- Naam\n  - Voornaam\n- E-mail" in markdown
    assert "| Naam | 2 jaar |" in markdown


def test_every_seed_page_keeps_its_text_and_drops_the_chrome():
    for seed_id, text in seed_texts().items():
        page = SitePage(SEED_NAMES[seed_id], text).body()
        doc = extract_document(page, "text/html; charset=utf-8")
        plain = doc.markdown()
        assert "Wij gebruiken cookies" not in plain and "Algemene voorwaarden" not in plain
        # every long sentence of the seed survives extraction (bold/link markup aside)
        longest = max(text.split("\n"), key=len).replace("**", "")
        probe = longest.split("[")[0][:80].strip(" -•*#")
        assert probe in plain, (seed_id, probe)


def test_plain_text_bodies_are_split_into_paragraphs():
    doc = extract_document(b"Eerste alinea\nloopt door.\n\nTweede alinea.", "text/plain; charset=utf-8")
    assert [b.text for b in doc.blocks] == ["Eerste alinea loopt door.", "Tweede alinea."]
