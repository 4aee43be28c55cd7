"""Issue 13, point 1: confirm before you alarm. What differs between two fetches moments apart is
volatile: masked for the comparison, remembered per source, while a real edit beside it is reported."""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.core import Block, Document
from monitor.devtools import judge_refetch
from monitor.devtools.site import SEED_NAMES, NoticeSite, SitePage, notice_html_body, seed_text
from monitor.diff import learn, mask_document
from monitor.extract.html import extract_html
from monitor.store import VolatileSite, load_sites, remember_sites
from monitor.store.db import open_db
from monitor.store.models import Source, Version
from monitor.web import create_app
from tests.support import run_cli

WORDS = ("gegevens", "bewaren", "privacy", "verwerken", "rechten", "contact", "cookies", "partijen", "doel",
         "termijn", "data", "share", "keep", "process", "rights", "request", "delete", "access", "months",
         "years", "service", "account", "order", "payment", "address", "email", "phone", "consent", "law", "we")
FORMATS = ("hex", "int", "uuid", "tally", "alpha")


def _token(kind: str, rng: random.Random) -> str:
    if kind == "hex":
        return "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(8, 20)))
    if kind == "int":
        return str(rng.randint(10_000, 10_000_000))
    if kind == "uuid":
        return "-".join("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4))
    if kind == "tally":
        return f"{rng.randint(1, 999)},{rng.randint(100, 999)}"
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))


def _render(paragraphs: list[list[str]], spots: list[tuple[int, int, str, int]], seed: int,
            edit: tuple[int, int] | None = None) -> str:
    """A page whose text and link targets carry per-request tokens at the given spots."""
    rng = random.Random(seed)
    out = []
    for p, words in enumerate(paragraphs):
        words = list(words)
        if edit is not None and edit[0] % len(paragraphs) == p:
            words[edit[1] % len(words)] = "zzedited"
        parts = [html.escape(w) for w in words]
        for sp, sw, where, fmt in spots:
            if sp % len(paragraphs) != p:
                continue
            i = sw % len(parts)
            token = _token(FORMATS[fmt % len(FORMATS)], rng)
            if where == "text":
                parts[i] = f"{parts[i]} {token}"
            else:
                parts[i] = f'<a href="/docs/form?ref={token}&amp;lang=nl">{parts[i]}</a>'
        out.append("<p>" + " ".join(parts) + ".</p>")
    return '<html lang="nl"><body><main><h1>Privacyverklaring</h1>' + "".join(out) + "</main></body></html>"


@st.composite
def paragraphs_st(draw: st.DrawFn) -> list[list[str]]:
    """Clauses of any words; half the time clauses nearly alike (one base with a word or two changed and a
    tail cut), as the clauses of a real notice often are: the same context then stands before a token in
    one clause and before other text in the next, which once defeated the masking."""
    if not draw(st.booleans()):
        return draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=10, max_size=20), min_size=4, max_size=6))
    base = draw(st.lists(st.sampled_from(WORDS), min_size=10, max_size=20))
    clauses = []
    for _ in range(draw(st.integers(4, 6))):
        clause = list(base)
        for i, word in draw(st.lists(st.tuples(st.integers(0, 50), st.sampled_from(WORDS)), max_size=2)):
            clause[i % len(clause)] = word
        clauses.append(clause[:draw(st.integers(10, len(clause)))])
    return clauses


spots_st = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.sampled_from(["text", "link"]),
                              st.integers(0, 4)), min_size=1, max_size=3)
seeds_st = st.lists(st.integers(0, 2**32), min_size=3, max_size=3, unique=True)


def _doc(page: str) -> Document:
    return extract_html(page, url="https://www.example.nl/privacy")


@settings(max_examples=120, deadline=None)
@given(paragraphs=paragraphs_st(), spots=spots_st, seeds=seeds_st)
def test_per_request_tokens_anywhere_never_yield_a_change(paragraphs, spots, seeds):
    version, first, second = (_doc(_render(paragraphs, spots, s)) for s in seeds)
    changed, sites = judge_refetch(version, [first, second], [])
    assert not changed
    later = _doc(_render(paragraphs, spots, seeds[0] + seeds[1] + 1))
    assert not judge_refetch(version, [later, later], sites)[0]  # remembered: no second fetch needed


@settings(max_examples=80, deadline=None)
@given(paragraphs=paragraphs_st(), spots=spots_st, seeds=seeds_st,
       edit=st.tuples(st.integers(0, 50), st.integers(0, 50)))
def test_a_single_word_edit_is_still_a_change(paragraphs, spots, seeds, edit):
    version = _doc(_render(paragraphs, spots, seeds[0]))
    fetches = [_doc(_render(paragraphs, spots, s, edit)) for s in seeds[1:]]
    assert judge_refetch(version, fetches, [])[0]


def test_an_edit_in_the_same_clause_as_a_volatile_token_is_reported_and_masked_in_the_diff():
    def doc(word: str, token: str) -> Document:
        return Document(blocks=[Block("paragraph", f"Wij bewaren gegevens {word} jaar. Referentie: {token}.")])

    sites = learn(doc("zeven", "8f3a21"), doc("zeven", "77b0c2"))
    old, _ = mask_document(doc("zeven", "00aa11"), sites)
    new, count = mask_document(doc("tien", "99cc33"), sites)
    assert count == 1 and old.text() != new.text()
    assert "99cc33" not in new.text() and "tien" in new.text()


def test_a_sites_context_recurring_before_a_link_leaves_the_links_own_token_masked():
    # "cookies partijen" stands before a token in one clause and before a link's "[" in the next: masking
    # the "[" as if it were the token broke the context of the link's own site, and every fetch alarmed.
    def doc(tokens: tuple[str, str, str]) -> Document:
        return Document(blocks=[
            Block("paragraph", f"Wij delen cookies partijen {tokens[0]} doel termijn."),
            Block("paragraph", f"Wij delen cookies partijen [doel {tokens[1]}](/form?ref={tokens[2]}) termijn."),
        ])

    sites = learn(doc(("8f3a21", "77b0c2", "aa01")), doc(("19cd44", "e5f6a7", "bb02")))
    version, _ = mask_document(doc(("00aa11", "3c3c3c", "cc03")), sites)
    later, count = mask_document(doc(("99cc33", "4d4d4d", "dd04")), sites)
    assert count == 3 and version.text() == later.text()
    assert "[" in later.text()


def _rotating(paragraphs: list[list[str]], rotating: list[list[str]], where: int, as_list: bool, seed: int,
              edit: tuple[int, int] | None = None) -> str:
    """A page with one stretch that varies as a whole per request: one of the `rotating` sentences as a
    paragraph, or a shuffled list of some of them (its length varies too), standing before paragraph
    `where`. No digits: nothing in it looks like a token."""
    rng = random.Random(seed)
    if as_list:
        chosen = rng.sample(rotating, rng.randint(1, len(rotating)))
        stretch = "<ul>" + "".join(f"<li>{html.escape(' '.join(s))}</li>" for s in chosen) + "</ul>"
    else:
        stretch = f"<p>{html.escape(' '.join(rng.choice(rotating)))}.</p>"
    out = []
    for p, words in enumerate(paragraphs):
        words = list(words)
        if edit is not None and edit[0] % len(paragraphs) == p:
            words[edit[1] % len(words)] = "zzedited"
        if p == where % len(paragraphs):
            out.append(stretch)
        out.append("<p>" + html.escape(" ".join(words)) + ".</p>")
    return '<html lang="nl"><body><main><h1>Privacyverklaring</h1>' + "".join(out) + "</main></body></html>"


# The varying stretch's sentences share no word with each other (as a rotating tip's variants do not).
ROTATING = ("zomer", "aanbieding", "korting", "winkel", "nieuw", "collectie", "lente", "actie", "gratis", "bezorging",
            "vandaag", "weekend", "koffie", "showroom", "tuin", "meubels", "keuken", "ontwerp", "vacature", "team",
            "werken", "solliciteer", "festival", "muziek", "markt", "kraam", "proef", "smaak", "fiets", "route",
            "wandel", "natuur", "boek", "lezing", "avond", "gezellig")
rotating_st = st.integers(4, 6).flatmap(lambda n: st.permutations(range(n)).map(
    lambda order: [list(ROTATING[6 * k:6 * k + 6]) for k in order]))
# A notice is long beside the stretch that varies (where most of a page varies, nothing is learned).
long_paragraphs_st = st.lists(st.lists(st.sampled_from(WORDS), min_size=20, max_size=30), min_size=8, max_size=10,
                              unique_by=tuple)


@settings(max_examples=60, deadline=None)
@given(paragraphs=long_paragraphs_st, rotating=rotating_st, where=st.integers(0, 9), as_list=st.booleans(),
       seeds=seeds_st)
def test_a_stretch_that_varies_as_a_whole_never_yields_a_change_once_seen_to_vary(paragraphs, rotating, where,
                                                                                 as_list, seeds):
    """Whole blocks that differ between two fetches moments apart (a rotating tip, a shuffled list of any
    length) are one volatile stretch between the equal blocks around it."""
    version, first, second = (_doc(_rotating(paragraphs, rotating, where, as_list, s)) for s in seeds)
    # Three different variants: the fetch differs from the version and the confirmation from the fetch.
    # (Had two of them shown the same variant, there would have been nothing to learn from this pair.)
    assume(len({version.text(), first.text(), second.text()}) == 3)
    changed, sites = judge_refetch(version, [first, second], [])
    assert not changed
    later = _doc(_rotating(paragraphs, rotating, where, as_list, seeds[0] + seeds[1] + 1))
    assert not judge_refetch(version, [later, later], sites)[0]


@settings(max_examples=60, deadline=None)
@given(paragraphs=long_paragraphs_st, rotating=rotating_st, where=st.integers(0, 9), as_list=st.booleans(),
       seeds=seeds_st, edit=st.tuples(st.integers(0, 50), st.integers(0, 50)))
def test_an_edit_beside_a_varying_stretch_is_still_a_change(paragraphs, rotating, where, as_list, seeds, edit):
    version = _doc(_rotating(paragraphs, rotating, where, as_list, seeds[0]))
    learned = learn(*(_doc(_rotating(paragraphs, rotating, where, as_list, s)) for s in seeds[1:]))
    edited = [_doc(_rotating(paragraphs, rotating, where, as_list, s, edit)) for s in seeds[1:]]
    assert judge_refetch(version, edited, learned)[0]


def test_when_most_of_the_page_differs_nothing_is_learned():
    first = Document(blocks=[Block("paragraph", f"Clause {w} about data.") for w in ("one", "two", "three")])
    second = Document(blocks=[Block("paragraph", f"Entirely other text {w}.") for w in ("alpha", "beta", "gamma")])
    assert learn(first, second) == []


# ------------------------------------------------------------------ the real spider, a real server


def _config(site: NoticeSite, tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "noticewatch.toml"
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                    "[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\nconfirm_delay = 0.2\n\n"
                    f'[[source]]\nid = "ismt"\nname = "ISMT"\nurl = "{site.url_for("ismt")}"\n', encoding="utf-8")
    return path


def _run(config: Path) -> tuple[dict, list[dict]]:
    result = run_cli(config, "run", "--json")
    assert result.returncode == 0, result.stderr
    changes = run_cli(config, "changes", "--json")
    assert changes.returncode == 0, changes.stderr
    return json.loads(result.stdout), json.loads(changes.stdout)["changes"]


def _hits(site: NoticeSite) -> int:
    with site.lock:
        return sum(1 for _m, p, _h in site.requests if p.split("?")[0] == "/privacy/ismt")


TIPS = ("Tip van de week: plan uw onderhoudsbeurt online en kies zelf een moment.",
        "Nieuw: ons servicepunt in Utrecht is nu ook op zaterdagochtend open.",
        "Wist u dat u uw facturen ook per post kunt ontvangen?",
        "Doe mee aan ons klantonderzoek en help ons de dienstverlening te verbeteren.",
        "Vacature: wij zoeken monteurs voor de regio Amersfoort.")


def _tokens_renderer(page: SitePage, hit: int) -> bytes:
    """Per-request tokens in the text and in a link target, beside the notice's first heading."""
    rng = random.Random(hit * 7919)
    body = notice_html_body(page.text).replace(
        "</h1>", f'</h1>\n<p>Uw referentie: {_token("hex", rng)}. Deze pagina is {_token("int", rng)} keer '
                 f'gelezen; download het <a href="/form.pdf?ref={_token("hex", rng)}">formulier</a>.</p>', 1)
    return f'<html lang="nl"><head><title>Privacy</title></head><body><main>{body}</main></body></html>'.encode()


def _rotating_renderer(page: SitePage, hit: int) -> bytes:
    """A tip paragraph that changes with every request (words only, nothing token-like)."""
    body = notice_html_body(page.text).replace("</h1>", f"</h1>\n<p>{TIPS[hit % len(TIPS)]}</p>", 1)
    return f'<html lang="nl"><head><title>Privacy</title></head><body><main>{body}</main></body></html>'.encode()


@pytest.mark.parametrize(("render", "masked", "hidden", "min_sites"), [
    (_tokens_renderer, 3, "gelezen", 3),
    (_rotating_renderer, 1, "servicepunt", 1),
], ids=["tokens", "rotating-block"])
def test_volatile_text_through_the_spider_is_learned_remembered_and_edits_still_reported(
        tmp_path, db_url, render, masked, hidden, min_sites):
    page = SitePage(SEED_NAMES["ismt"], seed_text("ismt"))
    page.renderer = render
    with NoticeSite(pages={"ismt": page}, validators=False) as site:
        config = _config(site, tmp_path, db_url)
        summary, changes = _run(config)
        assert summary["new"] == 1 and _hits(site) == 1
        summary, changes = _run(config)  # differs from v1: fetched again, the difference is volatile
        assert summary["unchanged"] == 1 and changes == [] and _hits(site) == 3
        summary, changes = _run(config)  # remembered: masked without an extra request
        assert summary["unchanged"] == 1 and changes == [] and _hits(site) == 4
        engine = open_db(load_config(config).database_url)
        with Session(engine) as session:
            assert len(load_sites(session, "ismt")) >= min_sites
        site.edit("ismt", "Eerst zie je een samenvatting op hoofdlijnen.",
                  "Eerst zie je een samenvatting op hoofdlijnen. Wij verkopen je gegevens.")
        summary, changes = _run(config)
        assert summary["changed"] == 1
        [change] = changes
        assert change["confirmation"] == {"confirmed": True, "volatile_masked": masked}
        assert any("verkopen" in (c.get("new_text") or "") for c in change["clauses"])
        assert all(hidden not in (c.get("new_text") or "") and hidden not in (c.get("old_text") or "")
                   for c in change["clauses"])  # masked, not a change
        with Session(engine) as session:
            stored = session.exec(select(Version).where(Version.source_id == "ismt", Version.number == 2)).one()
            assert "\u27e8volatile\u27e9" not in stored.markdown  # the stored text keeps what was served
            assert any(served in stored.markdown for served in ("keer gelezen", *TIPS))
        text = TestClient(create_app(engine)).get("/notices/ismt/diff", params={"old": 1, "new": 2}).text
        ignored = f"{masked} volatile token{'s' if masked != 1 else ''} ignored"
        assert "confirmed by a second fetch" in text and ignored in text
        engine.dispose()


def test_a_site_that_stops_varying_is_forgotten(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'db.sqlite'}")

    def doc(token: str) -> Document:
        return Document(blocks=[Block("paragraph", f"Bezoek nummer {token} van vandaag.")])

    with Session(engine) as session:
        session.add(Source(id="s", name="S"))
        session.flush()
        remember_sites(session, "s", learn(doc("1234"), doc("5678")), doc("5678"))
        session.flush()
        for _ in range(2):
            remember_sites(session, "s", [], doc("9999"))
            session.flush()
        assert load_sites(session, "s")  # it changed on the first of these, then stood still once
        for _ in range(3):
            remember_sites(session, "s", [], doc("9999"))
            session.flush()
        assert session.exec(select(VolatileSite)).all() == []
