"""Terminal rendering of change records: page text cannot reach the terminal as control sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.core.document import Block, Document
from monitor.diff.clauses import diff_documents
from monitor.store.change_text import change_text_lines


def _record(old: str, new: str) -> dict:
    diff = diff_documents(Document([Block("heading", "Bewaren"), Block("paragraph", old, ("Bewaren",))]),
                          Document([Block("heading", "Bewaren"), Block("paragraph", new, ("Bewaren",))]),
                          old_date=None, new_date=None)
    data = diff.to_dict()
    return {"source": "s", "source_name": "S", "old_version": 1, "new_version": 2, "detected_at": "t",
            "significance": data["significance"], "counts": data["counts"], "old_date": None, "new_date": None,
            "flags": data["flags"], "clauses": data["clauses"]}


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_page_text_never_reaches_the_terminal_as_control_characters(old, new):
    record = _record("Wij bewaren gegevens " + old, "Wij bewaren gegevens " + new + "\x1b[2J\u202e")
    plain = "\n".join(change_text_lines(record))
    assert not any(ch in plain for ch in "\x1b\x07\x9b\u202e")
    coloured = "\n".join(change_text_lines(record, color=True))
    assert "\x1b[2J" not in coloured and "\u202e" not in coloured and "\x9b" not in coloured


def test_plain_marks_word_edits_and_colour_styles_them():
    record = _record("Wij bewaren uw gegevens zes maanden.", "Wij bewaren uw gegevens zeven jaar.")
    plain = change_text_lines(record)
    assert plain[-1].strip() == "Wij bewaren uw gegevens [-zes maanden-]{+zeven jaar+}."
    coloured = change_text_lines(record, color=True)
    assert "[-" not in coloured[-1] and "\x1b[32m" in coloured[-1] and "\x1b[31m" in coloured[-1]
