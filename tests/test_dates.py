"""The notice's own date statement: seeds, other languages, precision, and dates that are not it."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core.document import Block, Document
from monitor.dates.notice_date import NoticeDate, find_notice_date, list_patterns
from tests.support.seeds import document_from_text, seed_document


def doc(*texts: str, language: str | None = None, heading: int | None = None) -> Document:
    blocks = [Block("heading" if k == heading else "paragraph", t, (), 2 if k == heading else 0)
              for k, t in enumerate(texts)]
    return Document(blocks=blocks, language=language)


@pytest.mark.parametrize("seed, value, precision, kind, sentence", [
    ("ingram-micro", dt.date(2022, 12, 27), "day", "updated", "Laatst bijgewerkt op 27 december 2022"),
    ("partners4it", dt.date(2018, 5, 7), "day", "updated", "Laatst gewijzigd: 7 Mei 2018"),
    ("ismt", dt.date(2020, 12, 22), "day", "updated",
     "Deze privacyverklaring is voor het laatst gewijzigd op en geldig per 22-12-2020."),
    ("cetit", dt.date(2018, 5, 1), "month", "effective",
     "Deze Privacyverklaring is van kracht met ingang van mei 2018."),
])
def test_seed_dates(seed, value, precision, kind, sentence):
    found = find_notice_date(seed_document(seed))
    assert found is not None
    assert (found.value, found.precision, found.kind) == (value, precision, kind)
    assert found.sentence == sentence


def test_westcon_has_no_date():
    assert find_notice_date(seed_document("westcon-comstor")) is None


def test_ismt_date_found_at_the_bottom_not_in_the_question_heading():
    document = seed_document("ismt")
    found = find_notice_date(document)
    assert found.block_index == len(document.blocks) - 1


@pytest.mark.parametrize("text, language, value, precision", [
    ("Last updated: August, 2023", "en", dt.date(2023, 8, 1), "month"),
    ("Effective date: 1 March 2024", "en", dt.date(2024, 3, 1), "day"),
    ("This Privacy Policy was last modified on March 5, 2024.", "en", dt.date(2024, 3, 5), "day"),
    ("Stand: 01.03.2024", "de", dt.date(2024, 3, 1), "day"),
    ("Stand: 03.01.2024", "de", dt.date(2024, 1, 3), "day"),
    ("Zuletzt aktualisiert am 3. März 2024", "de", dt.date(2024, 3, 3), "day"),
    ("Dernière mise à jour : 3 mars 2024", "fr", dt.date(2024, 3, 3), "day"),
    ("Politique en vigueur à compter du 1er juin 2023.", "fr", dt.date(2023, 6, 1), "day"),
    ("Laatst gewijzigd op 03-04-2020", "nl", dt.date(2020, 4, 3), "day"),
    ("Laatste wijziging: 2021", "nl", dt.date(2021, 1, 1), "year"),
])
def test_statements_beyond_the_seeds(text, language, value, precision):
    body = "We process personal data as described below and keep it safe."
    for language_given in (language, None):  # with and without the document's language
        found = find_notice_date(doc("Privacy", body, text, body), language=language_given)
        assert found is not None, text
        assert (found.value, found.precision) == (value, precision)
        assert found.language == language


def test_statement_in_a_heading_and_split_over_heading_and_next_block():
    found = find_notice_date(doc("Privacy notice — last updated 1 March 2024", "Text.", heading=0))
    assert found.value == dt.date(2024, 3, 1)
    found = find_notice_date(doc("Intro text here.", "Last updated", "1 March 2024", heading=1))
    assert found.value == dt.date(2024, 3, 1)
    assert found.block_index == 2


def test_version_label_is_kept_as_label_not_date():
    found = find_notice_date(doc("Privacyverklaring", "Versie: 2018.5b", "Tekst."), language="nl")
    assert found.kind == "version"
    assert found.value is None and found.precision is None
    assert found.label == "2018.5b"
    assert found.display() == "version 2018.5b"


def test_dated_statement_preferred_over_version_label():
    found = find_notice_date(doc("Version 3.1", "Last updated: 1 March 2024"), language="en")
    assert found.kind == "updated" and found.value == dt.date(2024, 3, 1)


@pytest.mark.parametrize("text", [
    "De Algemene Verordening Gegevensbescherming (Verordening (EU) 2016/679 van 27 april 2016) geldt.",
    "De AVG is van kracht sinds 25 mei 2018 en geldt in de hele EU.",
    "Sinds 25 mei 2018 geldt de AVG.",
    "Wij reageren binnen 30 dagen op uw verzoek.",
    "The GDPR has been in force from 25 May 2018.",
    "Die DSGVO ist seit 25. Mai 2018 in Kraft getreten.",
    "Wij hebben deze verklaring voor het laatst gewijzigd.",  # a trigger without a date
    "Laatst gewijzigd: binnen 30 dagen na uw verzoek.",
])
def test_dates_not_about_the_notice_are_not_taken(text):
    assert find_notice_date(doc("Privacyverklaring", text)) is None


def test_real_statement_wins_over_law_dates():
    text = ("Deze privacyverklaring is aangepast aan de AVG die van kracht is sinds 25 mei 2018.\n\n"
            "Laatst gewijzigd op 2 februari 2021")
    found = find_notice_date(document_from_text(text))
    assert found.value == dt.date(2021, 2, 2)


def test_month_precision_never_invents_a_day():
    found = find_notice_date(doc("Van kracht met ingang van mei 2018."))
    assert found.precision == "month"
    assert found.display() == "2018-05"
    assert "05-01" not in found.display()


def test_roundtrip_and_display():
    found = find_notice_date(seed_document("cetit"))
    again = NoticeDate.from_dict(found.to_dict())
    assert again == found
    assert found.to_dict()["display"] == "2018-05"


def test_compare_respects_precision():
    def nd(value, precision):
        return NoticeDate(value, precision, "updated", "")
    month = nd(dt.date(2018, 5, 1), "month")
    assert month.compare(nd(dt.date(2018, 5, 7), "day")) == 0
    assert month.compare(nd(dt.date(2018, 4, 30), "day")) == 1
    assert nd(dt.date(2018, 5, 7), "day").compare(nd(dt.date(2018, 5, 8), "day")) == -1
    assert nd(dt.date(2018, 1, 1), "year").compare(nd(dt.date(2018, 12, 31), "day")) == 0
    assert not month.is_after(dt.date(2018, 5, 2))
    assert month.is_after(dt.date(2018, 4, 30))
    v1 = NoticeDate(None, None, "version", "", label="2018.5b")
    v2 = NoticeDate(None, None, "version", "", label="2018.10")
    assert v1.compare(v2) == -1


def test_patterns_are_listable_and_documented():
    patterns = list_patterns()
    assert {p.language for p in patterns} == {"nl", "en", "de", "fr", "es", "it", "pt", "pl", "ro", "sv", "da",
                                              "fi", "cs"}
    assert len({p.name for p in patterns}) == len(patterns)
    assert all(p.doc and p.stems for p in patterns)


def test_fast_on_the_largest_seed():
    document = seed_document("ingram-micro")
    find_notice_date(document)  # warm dateparser's locale data
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        find_notice_date(document)
        timings.append(time.perf_counter() - t0)
    assert statistics.median(timings) < 0.05


@pytest.mark.parametrize("repeats", [1_000, 10_000])
def test_a_block_of_thousands_of_statements_costs_linear_time(repeats):
    """Hostile input (issue 16): one paragraph repeating a dated statement with no sentence break in
    reach. Each trigger reads a bounded window, and only so many triggers are read: before, 1,000
    repeats (70 KB) took 13.9 s; now 10,000 (700 KB) take about 0.1 s. The first statement still counts."""
    statement = "Last updated: 3 March 2024, effective from 1 April 2024, version 2.1"
    document = Document(blocks=[Block("paragraph", " ".join([statement] * repeats))], title="", language="en")
    started = time.perf_counter()
    found = find_notice_date(document, "en")
    assert time.perf_counter() - started < 3.0
    assert found is not None and found.value == dt.date(2024, 3, 3) and found.precision == "day"


_STEM_TEXT = st.text(alphabet="abcdeéİ XY\n.", max_size=40)


@given(texts=st.lists(_STEM_TEXT, max_size=8), stem=st.text(alphabet="abcdeé X.", min_size=1, max_size=4))
def test_the_stem_index_finds_exactly_the_blocks_that_hold_a_stem(texts, stem):
    """The trigger pre-screen (one pass per stem over the whole lowercased text) names exactly the blocks
    whose own lowercased text holds the stem: no block is missed and none is found across a boundary."""
    from monitor.dates.notice_date import _StemIndex

    document = Document(blocks=[Block(kind="paragraph", text=text) for text in texts])
    expected = {index for index, text in enumerate(texts) if stem in text.lower()}
    assert _StemIndex(document).blocks_with(stem) == expected
