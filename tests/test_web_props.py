"""Properties of the web's pure parts: word segments, clause origins, version ranges, search queries."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.store.search import query_terms
from monitor.web.blame import Origin, carry_origins
from monitor.web.routes.search import highlight_segments
from monitor.web.views import _segments, version_ranges

words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
sentences = st.lists(st.sampled_from(["de", "gegevens", "Verenigde", "Staten", "30", "14", ",", ".", " ", "  ",
                                      "\u00e9t\u00e9", "\ue000"]), max_size=30).map("".join)


@given(old=st.one_of(words, sentences), new=st.one_of(words, sentences))
def test_diff_page_segments_rebuild_both_texts(old, new):
    segments = _segments({"old_text": old, "new_text": new})
    assert "".join(t for op, t in segments if op != "ins") == old
    assert "".join(t for op, t in segments if op != "del") == new
    assert all(op in ("same", "del", "ins") and t for op, t in segments)


@given(text=sentences)
def test_identical_texts_have_no_highlights(text):
    assert all(op == "same" for op, _ in _segments({"old_text": text, "new_text": text}))


keys = st.lists(st.tuples(st.sampled_from(["heading", "paragraph"]), st.sampled_from("abcdef")), max_size=12)


@given(old=keys, new=keys)
def test_clause_origins_carry_what_stood_and_date_the_rest(old, new):
    old_origins = [Origin(1 + i % 3, i) for i in range(len(old))]
    introduced = Origin(9, 99)
    origins = carry_origins(old, old_origins, new, introduced)
    assert len(origins) == len(new)
    inherited = [o for o in origins if o != introduced]
    assert len(inherited) == len(set(inherited))  # each old clause passes its origin on at most once
    for key, origin in zip(new, origins, strict=True):
        if origin != introduced:  # text that stood (in place or moved) keeps the origin of an equal old clause
            assert old[old_origins.index(origin)] == key
    for key in set(new):  # as many clauses of a text keep their origin as stood before
        kept = sum(1 for k, o in zip(new, origins, strict=True) if k == key and o != introduced)
        assert kept == min(new.count(key), old.count(key))
    assert carry_origins(old, old_origins, old, introduced) == old_origins


@given(numbers=st.lists(st.integers(1, 60), max_size=25))
def test_version_ranges_cover_exactly_the_numbers(numbers):
    text = version_ranges(numbers)
    covered: set[int] = set()
    for part in filter(None, text.split(", ")):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        covered.update(range(bounds[0], bounds[-1] + 1))
    assert covered == set(numbers)


@settings(max_examples=200)
@given(query=st.text(max_size=60))
def test_query_terms_are_plain_words(query):
    for term in query_terms(query):
        assert term and re.fullmatch(r"\w+( \w+)*", term)


@given(text=sentences, query=sentences)
def test_highlights_rebuild_the_text(text, query):
    segments = highlight_segments(text, query_terms(query))
    assert "".join(t for _, t in segments) == text
