"""monitor.core.CharFold: the same result as str.translate with the same table, for any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core import CharFold

TABLES = {
    "typography": {"\u2018": "'", "\u2019": "'", "`": "'", "\u201c": '"', "\u2013": "-", "\u2026": "..."},
    "to one char": {c: "'" for c in "‘’‚‛′`´«»‹›“”„‟″\""} | {c: "-" for c in "‐‑‒–—―−"},
    "deletion": {"\u00ad": "", "x": ""},
}
ALPHABET = st.sampled_from([*"ab '\"-.x\u00e9\u00ad", *{c for table in TABLES.values() for c in table}])


@pytest.mark.parametrize("name", list(TABLES))
@given(text=st.text(ALPHABET, max_size=60) | st.text(max_size=30))
def test_fold_equals_translate(name, text):
    table = TABLES[name]
    assert CharFold(table)(text) == text.translate(str.maketrans(table))


def test_a_fold_whose_replacements_would_chain_is_refused():
    with pytest.raises(ValueError, match="chain"):
        CharFold({"a": "b", "b": "c"})
    with pytest.raises(ValueError, match="single"):
        CharFold({"ab": "c"})
