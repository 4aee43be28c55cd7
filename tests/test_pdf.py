"""PDF notices: extracted to clauses without page furniture, and versioned like HTML through the spider."""

from __future__ import annotations

import json

from monitor.devtools.pdf_writer import write_pdf
from monitor.devtools.site import NoticeSite, SitePage
from monitor.extract import text_sha256
from monitor.extract.html import extract_document
from tests.support import run_cli

BLOCKS = [("heading", "Privacyverklaring Voorbeeld B.V."),
          ("paragraph", "Wij verwerken persoonsgegevens van klanten, leveranciers en sollicitanten. " * 6),
          ("heading", "Bewaartermijnen"),
          ("list_item", "Facturen bewaren wij zeven jaar vanwege de fiscale bewaarplicht."),
          ("list_item", "Sollicitatiegegevens bewaren wij vier weken na afloop van de procedure."),
          ("paragraph", "Vragen? Mail naar privacy@voorbeeld.nl of bel ons. Kosten voor een kopie: € 0,- (coördinatie "
                        "door onze functionaris, ideeën welkom)."),
          *[("paragraph", f"Clausule {i}: wij delen gegevens alleen met verwerkers binnen de EER. " * 3)
            for i in range(1, 30)]]


def test_pdf_is_extracted_to_clauses_without_headers_footers_or_page_numbers():
    body = write_pdf(BLOCKS, header="Voorbeeld B.V. — afgedrukt op 02-03-2026", footer="Vertrouwelijk")
    document = extract_document(body, "application/pdf")
    texts = [b.text for b in document.blocks]
    assert document.blocks[0].kind == "heading" and texts[0] == "Privacyverklaring Voorbeeld B.V."
    assert [b.kind for b in document.blocks[3:5]] == ["list_item", "list_item"]
    assert texts[3] == BLOCKS[3][1]
    assert texts[5] == BLOCKS[5][1].strip()  # é, ë, € survive
    assert not any("afgedrukt" in t or "Vertrouwelijk" in t or t.startswith("Pagina") for t in texts)
    assert len(document.blocks) == len(BLOCKS)
    reprint = write_pdf(BLOCKS, header="Voorbeeld B.V. — afgedrukt op 17-11-2026", font_size=11,
                        page_numbers="Page {page} of {pages}")
    assert text_sha256(extract_document(reprint, "application/pdf")) == text_sha256(document)


def test_pdf_source_is_versioned_like_html(tmp_path, db_url):
    page = SitePage("Voorbeeld B.V.", "", content_type="application/pdf", raw=write_pdf(BLOCKS, header="v1"))
    with NoticeSite(pages={"voorbeeld": page}, validators=False) as site:
        config = site.write_config(tmp_path / "nw.toml", database=db_url)
        assert json.loads(run_cli(config, "run", "--json").stdout)["new"] == 1
        page.raw = write_pdf(BLOCKS, header="v2, opnieuw afgedrukt", font_size=9)
        assert json.loads(run_cli(config, "run", "--json").stdout)["unchanged"] == 1
        edited = [(k, t.replace("vier weken", "twaalf weken")) for k, t in BLOCKS]
        page.raw = write_pdf(edited, header="v3")
        assert json.loads(run_cli(config, "run", "--json").stdout)["changed"] == 1
        shown = run_cli(config, "show", "voorbeeld").stdout
        assert "## Bewaartermijnen" in shown or "# Bewaartermijnen" in shown
        assert "twaalf weken" in shown and "afgedrukt" not in shown
