"""Human labels: every stored key has one in nl and en, a user's labels.toml overrides single ones."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.config import SubscriptionConfig
from monitor.core import SIGNIFICANCE_ORDER
from monitor.core.labels import LANGUAGES, load_labels
from monitor.diff import CHANGE_KINDS, FLAG_NAMES
from monitor.diff.topics import topic_names
from monitor.digest import build_digest
from monitor.digest.render import render
from monitor.store import change_text_lines
from tests.support.digest import SEED_EDITS

GROUPS = {"kind": CHANGE_KINDS, "significance": [str(s) for s in SIGNIFICANCE_ORDER], "flag": FLAG_NAMES,
          "topic": topic_names(), "state": ("failing", "gone", "moved", "suspicious")}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_key_has_a_label_in_every_language(language, group):
    table = load_labels(language).table[group]
    missing = [key for key in GROUPS[group] if key not in table]
    assert not missing, f"labels.toml [{language}.{group}] lacks {missing}"
    assert all("_" not in table[key] for key in GROUPS[group])  # a label, not a key


def test_dutch_labels_differ_from_english_and_counts_read_as_words():
    nl, en = load_labels("nl"), load_labels("en")
    assert nl.get("flag", "silent_change") == "stille wijziging" and en.get("flag", "silent_change") == "silent change"
    assert nl.get("topic", "data_subject_rights") == "uw rechten"
    assert en.counts({"added": 0, "removed": 0, "modified": 1}) == "1 changed"
    assert nl.counts({"added": 2, "modified": 1}) == "2 toegevoegd, 1 gewijzigd"
    assert en.counts({}) == "no clause changes"
    assert en.get("topic", "not_yet_labelled") == "not yet labelled"


def test_a_users_labels_toml_overrides_single_entries(tmp_path):
    (tmp_path / "labels.toml").write_text('[nl.topic]\ndata_subject_rights = "rechten van betrokkenen"\n')
    labels = load_labels("nl", str(tmp_path))
    assert labels.get("topic", "data_subject_rights") == "rechten van betrokkenen"
    assert labels.get("topic", "retention") == "bewaartermijn"


def _record(topics: list[str]) -> dict:
    source, old, new = SEED_EDITS[0]
    return {"id": 7, "source": source, "source_name": "ISMT B.V.", "url": None, "old_version": 1, "new_version": 2,
            "detected_at": "2026-12-01T06:00:00Z", "significance": "material", "counts": {"modified": 1},
            "flags": {"silent_change": True, "date_changed": False}, "old_date": None, "new_date": None,
            "clauses": [{"kind": "modified", "significance": "material", "heading_path": ["Bewaren"],
                         "tags": topics, "old_text": "Wij bewaren zes maanden.", "new_text": "Wij bewaren zeven jaar.",
                         "inline_text": "Wij bewaren [-zes maanden-]{+zeven jaar+}."}]}


def test_the_dutch_digest_and_the_cli_show_labels_not_keys():
    sub = SubscriptionConfig(name="nl-team", to=["a@example.org"], language="nl")
    view = build_digest(sub, [_record(["data_subject_rights", "retention"])], [],
                        now=dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC), since=None, base_url=None)
    _subject, text, html = render(view, sub)
    for output in (text, html):
        assert "uw rechten" in output and "bewaartermijn" in output and "stille wijziging" in output
        assert "data_subject_rights" not in output and "silent_change" not in output
    lines = "\n".join(change_text_lines(_record(["data_subject_rights"]), labels=load_labels("nl")))
    assert "inhoudelijk; 1 gewijzigd" in lines and "uw rechten" in lines and "stille wijziging" in lines
    english = "\n".join(change_text_lines(_record(["data_subject_rights"])))
    assert "material; 1 changed" in english and "~ changed under Bewaren [material; your rights]" in english
