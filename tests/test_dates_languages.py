"""Issue 13, point 6: date statements in every supported language, read by what the page shows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core import Block, Document
from monitor.dates import LANGUAGES, MONTHS, find_notice_date, list_patterns
from monitor.extract.html import extract_html

BODY = "We process personal data as described below and keep it safe for as long as needed."


def doc(*texts: str, language: str | None = None, page_language: str | None = None) -> Document:
    blocks = [Block("heading", texts[0], (), 1), *(Block("paragraph", t) for t in texts[1:])]
    return Document(blocks=blocks, language=language or page_language, page_language=page_language)


def test_every_language_has_triggers_of_each_kind_as_data():
    patterns = list_patterns()
    for language in LANGUAGES:
        kinds = {p.kind for p in patterns if p.language == language}
        assert {"updated", "effective", "version"} <= kinds, language


def test_month_names_come_from_dateparser_locale_data():
    from dateparser.data.date_translation_data import cs

    assert all(MONTHS["cs"][name.lower()] == 3 for name in cs.info["march"])
    assert MONTHS["pl"]["października"] == 10 and MONTHS["fi"]["maaliskuuta"] == 3


@pytest.mark.parametrize("text, language, value, precision", [
    ("Última actualización: 3 de febrero de 2024", "es", dt.date(2024, 2, 3), "day"),
    ("Ultimo aggiornamento: 15 gennaio 2024", "it", dt.date(2024, 1, 15), "day"),
    ("Última atualização: 5 de março de 2024", "pt", dt.date(2024, 3, 5), "day"),
    ("Data ostatniej aktualizacji: 2 października 2023 r.", "pl", dt.date(2023, 10, 2), "day"),
    ("Data intrării în vigoare: 1 martie 2024", "ro", dt.date(2024, 3, 1), "day"),
    ("Senast uppdaterad 2023-06-30", "sv", dt.date(2023, 6, 30), "day"),
    ("Denne politik er gældende fra 1. januar 2024.", "da", dt.date(2024, 1, 1), "day"),
    ("Viimeksi päivitetty 15.11.2023", "fi", dt.date(2023, 11, 15), "day"),
    ("Tyto zásady nabývají účinnosti dne 1. 5. 2024.", "cs", dt.date(2024, 5, 1), "day"),
    ("Diese Datenschutzerklärung wurde zuletzt im Januar 2024 aktualisiert.", "de", dt.date(2024, 1, 1), "month"),
    ("Cette politique est en vigueur à partir du 1er mars 2024.", "fr", dt.date(2024, 3, 1), "day"),
    ("1 March 2024 (last updated)", "en", dt.date(2024, 3, 1), "day"),
    ("Updated 7 March 2024", "en", dt.date(2024, 3, 7), "day"),
    ("Updated: Jan 5, 2024", "en", dt.date(2024, 1, 5), "day"),
])
def test_statements_in_other_languages(text, language, value, precision):
    found = find_notice_date(doc("Privacy", BODY, text, BODY), language=language)
    assert found is not None, text
    assert (found.value, found.precision) == (value, precision)


@pytest.mark.parametrize("page_language, text, value", [
    ("en-GB", "Last updated: 03/04/2024", dt.date(2024, 4, 3)),
    ("en-US", "Last updated: 03/04/2024", dt.date(2024, 3, 4)),
    ("en-IE", "Last updated: 03/04/2024", dt.date(2024, 4, 3)),
    ("en", "Last updated: 03/04/2024", dt.date(2024, 3, 4)),
    ("en-US", "Last updated: 03.04.2024", dt.date(2024, 4, 3)),  # dots mean day-first
    ("en-US", "Last updated: 25/03/2024", dt.date(2024, 3, 25)),  # a day above 12 decides
    ("en-GB", "Effective: 12/31/2023", dt.date(2023, 12, 31)),
])
def test_numeric_order_from_the_page_locale(page_language, text, value):
    found = find_notice_date(doc("Privacy", BODY, text, page_language=page_language))
    assert (found.value, found.precision) == (value, "day")


def test_the_fetch_date_rules_out_a_future_reading():
    found = find_notice_date(doc("Privacy", BODY, "Last updated: 04/11/2026", page_language="en-GB"),
                             today=dt.date(2026, 5, 1))
    assert found.value == dt.date(2026, 4, 11)  # 4 November 2026 had not happened at the fetch


@given(st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2030, 12, 31)),
       st.sampled_from(["en-US", "en-GB", "en"]))
def test_never_a_year_when_the_page_says_a_day(day, page_language):
    text = f"Last updated: {day.month}/{day.day}/{day.year}" if page_language == "en-US" or day.day > 12 \
        else f"Last updated: {day.day}.{day.month}.{day.year}"
    found = find_notice_date(doc("Privacy", BODY, text, page_language=page_language), today=dt.date(2031, 1, 1))
    assert found is not None and found.precision == "day"
    assert found.value == day


def test_page_lang_used_when_configured_language_is_wrong():
    html = ('<html lang="fr"><body><main><h1>Confidentialité</h1><p>Mis à jour le 5 avril 2024</p>'
            f"<p>{BODY}</p></main></body></html>")
    document = extract_html(html, language="nl")
    assert document.page_language == "fr"
    found = find_notice_date(document, "nl")
    assert found.value == dt.date(2024, 4, 5) and found.language == "fr"


def test_months_of_the_page_language_after_a_trigger_of_another():
    found = find_notice_date(doc("Confidentialité", BODY, "Last updated: 3 mars 2024", page_language="fr"))
    assert found.value == dt.date(2024, 3, 3)


def test_app_and_build_versions_are_not_the_notice_version():
    found = find_notice_date(doc("Privacyverklaring app", "Deze verklaring geldt voor de app, versie 3.14.2, en "
                                 "de website van ParkeerGemak en alle diensten die daarbij horen.", BODY),
                             language="nl")
    assert found is None
    found = find_notice_date(doc("Privacy", "This policy covers version 10.4.2 of our app for iOS and Android "
                                 "and our website.", "Last modified 2 May 2023"), language="en")
    assert found.value == dt.date(2023, 5, 2) and found.label is None


def test_version_table_gives_its_latest_row():
    blocks = [Block("heading", "Privacy", (), 1), Block("paragraph", BODY),
              Block("heading", "Document history", ("Privacy",), 2)]
    rows = ["Version | Date | Changes", "1.0 | 12 May 2019 | First", "3.1 | 20 October 2023 | Processors",
            "2.0 | 3 February 2021 | Telematics"]
    blocks += [Block("table_row", r, ("Privacy", "Document history")) for r in rows]
    found = find_notice_date(Document(blocks=blocks, language="en"))
    assert (found.value, found.kind, found.label) == (dt.date(2023, 10, 20), "version", "3.1")


def test_a_date_alone_under_the_title():
    found = find_notice_date(doc("Política de Privacidade", "10 de janeiro de 2024", BODY, page_language="pt-PT"))
    assert found.value == dt.date(2024, 1, 10)
    assert find_notice_date(doc("Privacy", BODY, "Our shop opened in 2024.")) is None


def test_full_statement_wins_over_a_bare_updated_line():
    found = find_notice_date(doc("Privacy", "Updated 1 May 2023", BODY, "Last updated: 2 June 2024"),
                             language="en")
    assert found.value == dt.date(2024, 6, 2)
