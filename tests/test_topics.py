"""Topic tags on the seeds' own clauses, and the vocabulary file's shape."""

from __future__ import annotations

import tomllib

import pytest

from monitor.diff.topics import TOPICS_FILE, tag_clause, topic_names
from tests.support.seeds import seed_document

REQUIRED = {"data_categories", "purposes", "legal_basis", "recipients", "international_transfers",
            "retention", "data_subject_rights", "cookies_tracking", "profiling", "security", "children",
            "contact_dpo"}


def clause(seed: str, starts: str):
    for block in seed_document(seed).blocks:
        if block.text.replace("*", "").startswith(starts):
            return block
    raise AssertionError(f"no clause starting {starts!r} in {seed}")


def test_vocabulary_file_has_every_topic_in_dutch_and_english():
    with open(TOPICS_FILE, "rb") as fh:
        data = tomllib.load(fh)
    assert set(data) >= REQUIRED
    for topic in REQUIRED:
        assert data[topic]["doc"]
        assert data[topic]["nl"] and data[topic]["en"]
    assert topic_names()[-1] == "other"


@pytest.mark.parametrize("seed, starts, topic", [
    ("westcon-comstor", "In sommige gevallen kunnen persoonsgegevens", "international_transfers"),
    ("ingram-micro", "10. Internationale gegevensoverdrachten", "international_transfers"),
    ("partners4it", "COOKIES EN VERGELIJKBARE", "cookies_tracking"),
    ("ismt", "Voor onze profileringsdoeleinden", "profiling"),
    ("westcon-comstor", "8. Verzameling van persoonsgegevens van kinderen", "children"),
    ("ingram-micro", "12. Niet voor kinderen", "children"),
    ("westcon-comstor", "10. Beveiliging van gegevens", "security"),
    ("partners4it", "U kunt contact met ons opnemen om uw rechten uit te oefenen", "data_subject_rights"),
    ("ismt", "Indien je toestemming hebt gegeven", "legal_basis"),
    ("westcon-comstor", "Westcon International Ltd is de verwerkingsverantwoordelijke", "contact_dpo"),
    ("ingram-micro", "11. Bewaartermijn", "retention"),
    ("partners4it", "Gegevens over betalingen:", "data_categories"),
    ("westcon-comstor", "5. Gebruik van verzamelde persoonsgegevens", "purposes"),
    ("westcon-comstor", "6. Bekendmaking van persoonsgegevens", "recipients"),
])
def test_seed_clauses_get_their_topic(seed, starts, topic):
    block = clause(seed, starts)
    assert topic in tag_clause(block.text, block.heading_path, "nl")


def test_heading_path_counts():
    block = clause("ingram-micro", "11. Bewaartermijn")
    under = [b for b in seed_document("ingram-micro").blocks if b.heading_path[-1:] == (block.text,)]
    assert under
    assert all("retention" in tag_clause(b.text, b.heading_path, "nl") for b in under)


def test_unrelated_text_is_other():
    assert tag_clause("Arabisch Frans Roemeens", (), "nl") == ["other"]
    assert tag_clause("The quick brown fox jumps over the lazy dog.", (), "en") == ["other"]


def test_english_german_french_and_word_starts():
    assert tag_clause("We transfer data to the United States under standard contractual clauses.", (),
                      "en") == ["international_transfers"]
    assert "retention" in tag_clause("Wir löschen Ihre Daten nach zwei Jahren.", (), "de")
    assert "cookies_tracking" in tag_clause("Nous utilisons des cookies.", (), "fr")
    # word starts only: "beer" must not be taken for "eer"
    assert "international_transfers" not in tag_clause("Wij drinken beer.", (), "nl")
    assert "international_transfers" in tag_clause("Doorgifte buiten de EER.", (), "nl")


def test_tags_follow_file_order():
    tags = tag_clause("Wij bewaren cookies van kinderen.", (), "nl")
    order = topic_names()
    assert tags == sorted(tags, key=order.index)
    assert {"retention", "cookies_tracking", "children"} <= set(tags)
