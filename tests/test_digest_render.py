"""The digest's content and rendering: word diffs, ordering, filtering, truncation, escaping, languages."""

from __future__ import annotations

import datetime as dt
from email.policy import SMTP

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.mail import SubscriptionConfig
from monitor.diff.words import DELETE, EQUAL, GAP, INSERT, collapse, inline_text, word_segments
from monitor.digest.render import build_message, render
from monitor.digest.view import CLAUSE_MAX_CHARS, MAX_CLAUSES_PER_CHANGE, build_digest
from monitor.store.health import FailingSource

NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
HOSTILE = '<script>alert("x")</script> {{ 7*7 }} {% if true %}jinja{% endif %} <img src=x onerror=alert(1)>'


def sub(**kw) -> SubscriptionConfig:
    return SubscriptionConfig(name="team", to=["privacy@example.org"], **kw)


def clause(old, new, *, kind="modified", significance=None, tags=None, heading=("PRIVACY", "BEWAARTERMIJN")):
    out = {"kind": kind, "heading_path": list(heading), "old_text": old, "new_text": new}
    if significance:
        out["significance"] = significance
    if tags:
        out["tags"] = tags
    return out


def record(cid, source, name, clauses, significance="material", **extra):
    return {"id": cid, "source": source, "source_name": name, "url": f"https://{source}.example/privacy",
            "detected_at": "2026-03-01T06:00:00Z", "old_version": 1, "new_version": 2,
            "significance": significance, "cosmetic_only": significance == "cosmetic", "clauses": clauses, **extra}


words = st.lists(st.sampled_from(["de", "het", "gegevens", "we", "bewaren", ",", ".", "Verenigde", "Staten",
                                  "  ", "\n", "ß", "é", "<b>", "{{", "x"]), max_size=40).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(words, words)
def test_word_segments_rebuild_both_texts(old, new):
    segments = word_segments(old, new)
    assert "".join(t for op, t in segments if op in (EQUAL, DELETE)) == old
    assert "".join(t for op, t in segments if op in (EQUAL, INSERT)) == new


@settings(max_examples=200, deadline=None)
@given(words, words, st.integers(min_value=5, max_value=100))
def test_collapse_keeps_every_change(old, new, context):
    segments = word_segments(old, new)
    collapsed = collapse(segments, context)
    assert [s for s in collapsed if s[0] in (DELETE, INSERT)] == [s for s in segments if s[0] in (DELETE, INSERT)]
    assert sum(len(t) for op, t in collapsed if op == EQUAL) <= sum(len(t) for op, t in segments if op == EQUAL)


def test_word_diff_marks_whole_words():
    segments = word_segments("We bewaren uw gegevens zo lang als nodig is.",
                             "We bewaren uw gegevens, ook in de Verenigde Staten, zo lang als nodig is.")
    assert inline_text(segments) == "We bewaren uw gegevens{+, ook in de Verenigde Staten,+} zo lang als nodig is."


def test_clauses_ordered_by_significance_and_filtered():
    rec = record(1, "ismt", "ISMT B.V.", [
        clause("a b c", "a b d", significance="minor", heading=("ONE",)),
        clause("typo teh", "typo the", significance="cosmetic", heading=("TWO",)),
        clause("we keep data", "we sell data", significance="material", tags=["sharing"], heading=("THREE",)),
    ])
    view = build_digest(sub(), [rec], [], now=NOW, since=None, base_url="https://nw.example")
    shown = view.notices[0].changes[0]
    assert [c.heading_path for c in shown.clauses] == [["THREE"], ["ONE"]]
    assert shown.hidden_below == 1 and shown.clauses[0].tags == ["sharing"]
    assert shown.clauses[0].url == "https://nw.example/changes/1#clause-2"
    everything = build_digest(sub(min_significance="cosmetic"), [rec], [], now=NOW, since=None, base_url=None)
    assert len(everything.notices[0].changes[0].clauses) == 3


def test_changes_below_the_minimum_are_skipped_and_counted():
    records = [record(1, "ismt", "ISMT B.V.", [clause("a", "b")], significance="cosmetic"),
               record(2, "cetit", "CETIT bvba", [clause("a", "b")], significance="minor")]
    view = build_digest(sub(min_significance="material"), records, [], now=NOW, since=None, base_url=None)
    assert view.notices == [] and view.skipped_ids == [1, 2] and view.summary.skipped_changes == 2
    view = build_digest(sub(), records, [], now=NOW, since=None, base_url=None)
    assert view.change_ids == [2] and view.skipped_ids == [1]


def test_summary_and_flags_from_the_clause_differ():
    flags = {"date_changed": None, "silent_change": True, "date_only": False}
    records = [record(1, "ismt", "ISMT B.V.", [clause("a", "b")], flags=flags,
                      notice_date={"display": "2020-12-22", "value": "2020-12-22"}),
               record(2, "cetit", "CETIT bvba", [clause("a", "b", significance="minor")], significance="minor",
                      flags={"date_changed": {"old": {"display": "2018-05"}, "new": {"display": "2018-04"}},
                             "date_backwards": True})]
    view = build_digest(sub(), records, [], now=NOW, since=None, base_url=None)
    assert (view.summary.notices_changed, view.summary.notices_material, view.summary.silent_changes) == (2, 1, 1)
    assert [n.name for n in view.notices] == ["ISMT B.V.", "CETIT bvba"]  # material first
    ismt, cetit = view.notices[0].changes[0], view.notices[1].changes[0]
    assert ismt.flags == ["silent_change"] and (ismt.date_old, ismt.date_new) == ("2020-12-22", "2020-12-22")
    assert cetit.flags == ["date_backwards"] and (cetit.date_old, cetit.date_new) == ("2018-05", "2018-04")
    _subject, text, html = render(view, sub())
    assert "1 silent change: the text changed but the notice's own date did not" in text
    assert "Date statement: 2018-05 → 2018-04" in text and "(!) date went backwards" in text
    assert "silent change" in html and "2018-05" in html


def test_long_clauses_and_many_clauses_are_truncated_with_links():
    long_old = " ".join(f"woord{i}" for i in range(2000))
    long_new = long_old.replace("woord5 ", "nieuw5 ").replace("woord1900", "NIEUW1900") + " " + "extra " * 600
    clauses = [clause(long_old, long_new)] + [clause(f"x{i} y", f"x{i} z") for i in range(MAX_CLAUSES_PER_CHANGE + 5)]
    view = build_digest(sub(), [record(7, "ismt", "ISMT B.V.", clauses)], [], now=NOW, since=None,
                        base_url="https://nw.example")
    change = view.notices[0].changes[0]
    first = change.clauses[0]
    assert any(op == GAP for op, _ in first.segments) and first.truncated
    assert sum(len(t) for op, t in first.segments if op != GAP) <= CLAUSE_MAX_CHARS
    assert len(change.clauses) == MAX_CLAUSES_PER_CHANGE and change.more == 6
    _subject, text, html = render(view, sub())
    assert "rest of this clause: https://nw.example/changes/7#clause-0" in text
    assert "+ 6 more changed clauses: https://nw.example/changes/7" in text
    assert 'href="https://nw.example/changes/7#clause-0"' in html and "6 more changed clauses" in html


def test_hostile_page_content_is_shown_as_text():
    rec = record(3, "evil", f"Evil {HOSTILE}", [clause("We keep data.", f"We keep data. {HOSTILE}",
                                                       heading=(HOSTILE,), tags=["<i>tag</i>"])],
                 url='https://evil.example/"><script>alert(2)</script>')
    failing = [FailingSource("evil", HOSTILE, None, "failing", 3, NOW, HOSTILE)]
    view = build_digest(sub(), [rec], failing, now=NOW, since=None, base_url=None)
    message = build_message(view, sub(), None)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<script" not in html and "<img" not in html and "<i>" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html and "{{ 7*7 }}" in html and "49" not in html
    assert "{% if true %}jinja{% endif %}" in html
    assert HOSTILE in text and "49" not in text
    assert "\n" not in str(message["Subject"]) and "Evil" in str(message["Subject"])


def test_dutch_chrome_keeps_the_notice_text():
    rec = record(1, "ismt", "ISMT B.V.", [clause("Wij bewaren je gegevens.", "Wij bewaren je gegevens niet.")])
    view = build_digest(sub(language="nl"), [rec], [], now=NOW, since=None, base_url=None)
    subject, text, html = render(view, sub(language="nl"))
    assert subject == "[noticewatch] 1 privacyverklaring gewijzigd: ISMT B.V."
    assert "Samenvatting".upper() in text and "1 verklaring gewijzigd" in text and "{+ niet+}" in text
    assert 'lang="nl"' in html and "Wijzigingen in privacyverklaringen" in html


def test_empty_digest_and_failing_subject():
    weekly = sub(frequency="weekly", send_empty=True)
    subject, text, _html = render(build_digest(weekly, [], [], now=NOW, since=None, base_url=None), weekly)
    assert subject == "[noticewatch] no changes this week" and "No changes in this period." in text
    failing = [FailingSource("westcon", "Westcon-Comstor", "https://w.example", "failing", 4, NOW, "HTTP 503")]
    subject, text, _html = render(build_digest(weekly, [], failing, now=NOW, since=None, base_url=None), weekly)
    assert subject == "[noticewatch] 1 privacy notice failing: Westcon-Comstor"
    assert "unreachable or unusable for 4 cycles since 2026-03-02 07:00 UTC" in text and "HTTP 503" in text


def test_message_is_multipart_and_stable():
    rec = record(1, "ismt", "ISMT B.V.", [clause("a b", "a c")])
    view = build_digest(sub(), [rec], [], now=NOW, since=None, base_url=None)
    message = build_message(view, sub(), None, message_id="<fixed@example.org>")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.as_bytes(policy=SMTP).isascii()  # stored as text in the outbox, sent byte for byte
    assert message["Date"] == "Mon, 02 Mar 2026 07:00:00 +0000"


def test_user_templates_override_file_by_file(tmp_path):
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "digest.txt.j2").write_text("Custom: {{ d.notices|length }} {{ t('title') }}\n")
    (tmp_path / "digest" / "strings.toml").write_text('[en]\ntitle = "Our changes"\n')
    rec = record(1, "ismt", "ISMT B.V.", [clause("a", "b")])
    view = build_digest(sub(), [rec], [], now=NOW, since=None, base_url=None)
    _subject, text, html = render(view, sub(), str(tmp_path))
    assert text == "Custom: 1 Our changes\n"
    assert "Our changes" in html and "<del" in html  # the built-in HTML template, with the user's string
