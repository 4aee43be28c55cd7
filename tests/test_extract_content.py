"""Issue 13 points 3-4: the notice is chosen by the page's structure, and chrome inside it is left out by
its structure. Texts here are generated filler: every assertion is about the shape of the page."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from monitor.core import Block
from monitor.devtools.evaluate import DEFAULT_FIXTURES, Fixtures, notice_markup
from monitor.devtools.evaluate_pages import PageSet
from monitor.extract.html import extract_document
from monitor.extract.structure import descend, document_kind, document_section, measure, notice_element
from monitor.extract.tree import parse_html

PAGE = "https://www.example.org/privacy"
WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod",
         "tempor", "incididunt", "labore", "magna", "aliqua", "veniam", "nostrud", "ullamco", "laboris")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def notice(rng: random.Random, sections: int = 4, title: str = "h1") -> tuple[str, list[str]]:
    """A notice: a title and sections of long paragraphs; returns its markup and its paragraphs."""
    paragraphs = [words(rng, 40) for _ in range(sections)]
    body = "".join(f"<h2>{words(rng, 3)}</h2><p>{p}</p>" for p in paragraphs)
    return f"<{title}>{words(rng, 2)}</{title}>" + body, paragraphs


def texts(html: str, url: str = PAGE, **kwargs) -> str:
    document = extract_document(html.encode(), "text/html; charset=utf-8", url=url, **kwargs)
    return "\n".join(b.text for b in document.blocks)


def element(html: str, xpath: str) -> tuple[etree._Element, etree._Element]:
    root = parse_html(html)
    return root, root.xpath(xpath)[0]


# ------------------------------------------------------------------ the structural scorer


def test_measure_counts_text_link_text_and_the_highest_heading_of_every_element():
    root, div = element('<body><div><h3>abc</h3><p>de <a href="/x">fgh</a> ij</p><nav><a href="/">menu</a></nav>'
                        '</div></body>', "//div")
    figures = measure(root)
    assert figures[div] == (3 + 2 + 3 + 2, 3, 3)  # nav counts as nothing; the link's 3 characters are link text
    assert figures[root.xpath("//p")[0]] == (7, 3, 7)


def test_measure_and_the_choice_are_iterative_on_a_page_nested_thousands_deep():
    rng = random.Random(1)
    deep = "<div>" * 1500 + notice(rng)[0] + "</div>" * 1500
    html = f"<html><body><main><p>{words(rng, 5)}</p></main>{deep}</body></html>"
    root = parse_html(html)
    assert len(measure(root)) > 1500
    chosen = notice_element(root, root.xpath("//main")[0])
    assert chosen.tag == "div" and len(list(chosen.iterancestors())) > 1000


@pytest.mark.parametrize("seed", range(5))
def test_a_block_in_main_is_not_the_notice_when_a_long_document_stands_beside_it(seed):
    rng = random.Random(seed)
    markup, paragraphs = notice(rng)
    block = f'<div><h2>{words(rng, 3)}</h2><p>{words(rng, 12)}</p><a href="/go">{words(rng, 2)}</a></div>'
    wrapper = rng.choice(["<div>{}</div>", "<section>{}</section>", "<article>{}</article>"])
    html = f"<html><body><main>{block}</main>{wrapper.format(markup)}</body></html>"
    text = texts(html)
    assert all(p in text for p in paragraphs)
    assert "/go" not in text


def test_main_stands_when_it_holds_the_bulk_of_the_text():
    rng = random.Random(7)
    markup, paragraphs = notice(rng)
    aside = f"<div><p>{words(rng, 30)}</p></div>"  # a long text outside main, but shorter than the notice
    root = parse_html(f"<html><body><main>{markup}</main>{aside}</body></html>")
    main = root.xpath("//main")[0]
    assert notice_element(root, main) is main


def test_main_stands_when_no_longer_document_stands_elsewhere():
    """A short notice in <main> and as much text spread over small blocks outside it: nothing outside is
    a document twice as long, so <main> stays."""
    rng = random.Random(2)
    markup, _ = notice(rng, sections=2)
    spread = "".join(f"<div><p>{words(rng, 25)}</p></div>" for _ in range(6))
    root = parse_html(f"<html><body><main>{markup}</main>{spread}</body></html>")
    main = root.xpath("//main")[0]
    assert notice_element(root, main) is main


def test_the_descent_keeps_the_title_and_introduction_standing_before_the_sections():
    rng = random.Random(3)
    sections = "".join(f"<h2>{words(rng, 3)}</h2><p>{words(rng, 60)}</p>" for _ in range(5))
    root, wrapper = element(f"<html><body><div><div><h1>{words(rng, 2)}</h1><p>{words(rng, 10)}</p></div>"
                            f"<div>{sections}</div></div><footer><a href='/x'>x</a></footer></body></html>",
                            "/html/body/div")
    assert descend(root.xpath("//body")[0], measure(root)) is wrapper


def test_the_descent_goes_past_a_lower_ranked_block_before_the_notice():
    rng = random.Random(4)
    root, target = element(f"<html><body><div><h3>{words(rng, 3)}</h3><p>{words(rng, 15)}</p></div>"
                           f"<div id='n'>{notice(rng)[0]}</div></body></html>", "//div[@id='n']")
    assert descend(root.xpath("//body")[0], measure(root)) is target


# ------------------------------------------------------------------ several documents on one page


def outline(kinds: list[str], sub: int = 2) -> list[Block]:
    blocks = [Block("heading", "Legal", (), 1)]
    for name in kinds:
        blocks.append(Block("heading", name, ("Legal",), 2))
        for n in range(sub):
            blocks.append(Block("heading", f"part {n} of {name}", ("Legal", name), 3))
            blocks.append(Block("paragraph", f"text {n} of {name}", ("Legal", name, f"part {n} of {name}"), 0))
    return blocks


DOCUMENTS = ["Terms of Service", "Privacy Policy", "Cookie Policy"]


def kept_sections(blocks: list[Block]) -> set[str]:
    return {b.text for b in blocks if b.kind == "heading" and b.level == 2}


def test_a_page_of_several_legal_documents_is_cut_to_the_privacy_notice_by_default():
    got = document_section(outline(DOCUMENTS), "https://x.org/legal", "Legal")
    assert kept_sections(got) == {"Privacy Policy"} and len(got) == 5
    assert all(b.heading_path[:2] == ("Legal", "Privacy Policy") for b in got[1:])


@pytest.mark.parametrize(("url", "title", "anchored", "wanted"), [
    ("https://x.org/legal#cookies", "Legal", None, "Cookie Policy"),
    ("https://x.org/legal/cookie-policy", "Legal", None, "Cookie Policy"),
    ("https://x.org/legal", "Terms of Service | X", None, "Terms of Service"),
    ("https://x.org/terms-and-privacy", "Legal", None, "Privacy Policy"),
    ("https://x.org/legal#s3", "Legal", "part 1 of Cookie Policy", "Cookie Policy"),
])
def test_the_source_names_the_document_by_fragment_address_or_title(url, title, anchored, wanted):
    assert kept_sections(document_section(outline(DOCUMENTS), url, title, anchored)) == {wanted}


def test_a_title_naming_privacy_and_cookies_keeps_both_documents():
    got = document_section(outline(DOCUMENTS), "https://x.org/legal", "Privacy and Cookie Policy | X")
    assert kept_sections(got) == {"Privacy Policy", "Cookie Policy"}


def test_a_notice_with_one_section_named_like_a_document_is_not_cut():
    sections = ["Who we are", "What we collect", "Cookie policy", "Your rights", "Contact"]
    blocks = outline(["Privacy Policy"], sub=0) + outline(sections, sub=1)[1:]
    assert document_section(blocks, PAGE, "Privacy") == blocks
    assert document_section(outline(["Privacy Policy"]), PAGE, "Privacy") == outline(["Privacy Policy"])


def test_document_names_ignore_numbering_and_sentences():
    assert document_kind("3. Cookie Policy") == "cookies" and document_kind("II. Datenschutzerklärung") == "privacy"
    assert document_kind("Cookies") is None
    assert document_kind("Privacy " + "and more words " * 10) is None


@pytest.mark.parametrize("wrapper", ["main", "div"])
def test_sibling_articles_of_several_documents_give_the_one_the_source_is_about(wrapper):
    rng = random.Random(18)
    bodies = {name: words(rng, 60 if name.startswith("Terms") else 20) for name in DOCUMENTS}
    articles = "".join(f"<article><h1>{name}</h1><p>{bodies[name]}</p></article>" for name in DOCUMENTS)
    html = f"<html><body><{wrapper}>{articles}</{wrapper}></body></html>"
    text = texts(html, url="https://x.org/legal#cookie-policy")
    assert bodies["Cookie Policy"] in text and bodies["Terms of Service"] not in text
    assert bodies["Privacy Policy"] in texts(html, url="https://x.org/legal") != text


def test_select_pins_one_document_of_several():
    sections = "".join(f"<section id='s{i}'><h2>{name}</h2><p>text of {name}</p></section>"
                       for i, name in enumerate(DOCUMENTS))
    html = f"<html><body><main><h1>Legal</h1>{sections}</main></body></html>"
    assert "text of Terms of Service" not in texts(html)
    assert "text of Terms of Service" in texts(html, select=["#s0"])


# ------------------------------------------------------------------ chrome inside the content


def page(inner: str, rng: random.Random) -> tuple[str, list[str]]:
    markup, paragraphs = notice(rng)
    return f"<html><body><main><article>{markup}{inner}</article></main></body></html>", paragraphs


@pytest.mark.parametrize("toggle", ['<input type="checkbox">', '<input type="RADIO" name="r">',
                                    '<span role="switch" aria-checked="false"></span>',
                                    '<button type="button" aria-checked="true">x</button>'])
def test_a_panel_of_toggles_is_left_out_and_the_notice_around_it_stays(toggle):
    rng = random.Random(5)
    items = "".join(f"<li><label>{toggle} item{i} {words(rng, 3)}</label></li>" for i in range(4))
    html, paragraphs = page(f"<div><h3>{words(rng, 2)}</h3><p>{words(rng, 8)}</p><ul>{items}</ul></div>", rng)
    text = texts(html)
    assert all(p in text for p in paragraphs)
    assert "item0" not in text and "item3" not in text


def test_toggles_spread_through_a_notice_remove_nothing_but_the_controls():
    rng = random.Random(6)
    first, second = words(rng, 40), words(rng, 40)
    html = (f"<html><body><main><h1>T</h1><p>{first} <input type='checkbox'></p><h2>S</h2><p>{words(rng, 50)}</p>"
            f"<p>{second} <input type='checkbox'></p></main></body></html>")
    text = texts(html)
    assert first in text and second in text


def links(rng: random.Random, n: int, href) -> str:
    return "".join(f'<li><a href="{href(i)}">{words(rng, 4)}</a></li>' for i in range(n))


def test_a_list_of_links_to_other_pages_of_the_site_is_left_out_with_its_heading():
    rng = random.Random(8)
    title = words(rng, 2)
    html, paragraphs = page(f"<h2>{title}</h2><ul>{links(rng, 4, lambda i: f'/post/{i}')}</ul>", rng)
    text = texts(html)
    assert all(p in text for p in paragraphs)
    assert "/post/" not in text and title not in text


def test_a_list_of_recipients_linking_their_policies_stays_even_when_it_is_long():
    rng = random.Random(9)
    html, _ = page(f"<h2>R</h2><ul>{links(rng, 12, lambda i: f'https://vendor{i}.example/legal/privacy')}</ul>", rng)
    assert all(f"vendor{i}.example" in texts(html) for i in range(12))


def test_a_long_list_of_links_to_other_sites_home_pages_is_left_out_a_short_one_stays():
    rng = random.Random(10)
    long_list, _ = page(f"<ul>{links(rng, 9, lambda i: f'https://person{i}.example/')}</ul>", rng)
    short_list, _ = page(f"<ul>{links(rng, 3, lambda i: f'https://authority{i}.example/')}</ul>", rng)
    assert "person0.example" not in texts(long_list)
    assert all(f"authority{i}.example" in texts(short_list) for i in range(3))


def test_links_inside_paragraphs_and_list_items_with_text_stay():
    rng = random.Random(11)
    items = "".join(f'<li><a href="/doc/{i}">d{i}</a> {words(rng, 12)}</li>' for i in range(5))
    html, _ = page(f"<ul>{items}</ul><p>{''.join(f'<a href=/p{i}>{words(rng, 2)}</a> ' for i in range(4))}</p>", rng)
    text = texts(html)
    assert all(f"/doc/{i}" in text for i in range(5)) and "/p3" in text


@pytest.mark.parametrize("attributes", ['role="alert"', 'role="status"', 'aria-live="polite"'])
def test_a_short_live_region_is_left_out_one_holding_headings_stays(attributes):
    rng = random.Random(12)
    message, panel = words(rng, 10), words(rng, 10)
    html, paragraphs = page(f"<div {attributes}><p>{message}</p></div>"
                            f"<div {attributes}><h3>{words(rng, 2)}</h3><p>{panel}</p></div>", rng)
    text = texts(html)
    assert message not in text and panel in text and all(p in text for p in paragraphs)


def test_a_live_region_a_control_points_to_is_notice_text():
    rng = random.Random(16)
    answer = words(rng, 12)
    html, _ = page(f'<button aria-controls="a1" aria-expanded="false">q</button>'
                   f'<div id="a1" aria-live="polite"><p>{answer}</p></div>', rng)
    assert answer in texts(html)


def test_links_before_the_title_are_left_out_a_plain_line_before_it_stays():
    rng = random.Random(13)
    markup, paragraphs = notice(rng)
    line = words(rng, 6)
    html = (f'<html><body><main><div><a href="/app">{words(rng, 5)}</a></div><p>{line} 1 2 3</p>{markup}'
            f"</main></body></html>")
    text = texts(html)
    assert "/app" not in text and f"{line} 1 2 3" in text and all(p in text for p in paragraphs)


def test_a_short_block_around_an_e_mail_field_is_left_out_a_page_in_one_form_stays():
    rng = random.Random(14)
    blurb = words(rng, 10)
    html, paragraphs = page(f'<div><h3>{words(rng, 2)}</h3><p>{blurb}</p><form><input type="email">'
                            "<button>go</button></form></div>", rng)
    assert blurb not in texts(html)
    markup, paragraphs = notice(rng)
    wrapped = f'<html><body><form><main>{markup}<input name="email_address"></main></form></body></html>'
    assert all(p in texts(wrapped) for p in paragraphs)


# ------------------------------------------------------------------ whole pages


def test_a_whole_page_with_every_trap_gives_the_notice_alone():
    rng = random.Random(15)
    markup, paragraphs = notice(rng, sections=6)
    recipients = links(rng, 3, lambda i: f"https://processor{i}.example/privacy")
    toggles = "".join(f"<div><input type='checkbox'> purpose{i}</div>" for i in range(3))
    html = f"""<!DOCTYPE html><html lang="en"><head><title>Privacy | Example</title></head><body>
<header><nav><a href="/">Home</a><a href="/about">About</a></nav></header>
<main><div class="x1"><h2>{words(rng, 3)}</h2><p>newsletter {words(rng, 8)}</p>
<form><input type="email"><button>Go</button></form></div></main>
<div class="x2"><p role="status">announcement {words(rng, 6)}</p><div class="x3">{markup}
<h2>{words(rng, 2)}</h2><ul>{recipients}</ul><div>{toggles}</div>
<div><h2>{words(rng, 2)}</h2><ul>{links(rng, 4, lambda i: f'/blog/{i}')}</ul></div></div></div>
<footer><p>&copy; Example</p></footer></body></html>"""
    text = texts(html)
    assert all(p in text for p in paragraphs)
    assert all(f"processor{i}.example/privacy" in text for i in range(3))
    for chrome in ("newsletter", "announcement", "purpose0", "/blog/", "Home"):
        assert chrome not in text


def test_the_subprocessor_link_of_the_hard_fixture_stays_in_the_notice():
    fixtures = Fixtures(DEFAULT_FIXTURES)
    body = fixtures.render("hard/subprocessor-link.html", random.Random(1), notice=notice_markup("ismt"),
                           company="ISMT", edited=True)
    text = texts(body.decode("utf-8"), url="https://www.example.nl/privacy")
    assert "[lijst van subverwerkers](https://www.ismt-bv.com/subverwerkers-2026.pdf)" in text


@pytest.mark.parametrize("name", ["tuning", "heldout"])
def test_content_fixtures_hold_their_chrome_and_notice_phrases(name):
    """Teeth: every `drop` phrase and every `keep` phrase is really on the page, and the markup's own
    choice (<main> alone) would keep the chrome of most pages."""
    pages = PageSet(DEFAULT_FIXTURES / "pages", name)
    cases = [c for c in pages.cases if c["kind"] == "content"]
    assert len(cases) >= 12 and len({c["lang"] for c in cases}) >= 4
    assert {c["class"] for c in cases} == {"wrong-block", "several-documents", "consent-lists", "related-links",
                                           "announcement", "customer-lists"}
    in_main = 0
    for case in cases:
        root = parse_html(pages.render(case, 0).decode("utf-8"))
        page_text = " ".join(" ".join(root.itertext()).split())
        main = next(root.iter("main"), None)
        main_text = " ".join(" ".join(main.itertext()).split()) if main is not None else ""
        for phrase in case["keep"]:
            assert phrase.split("(")[0].strip() in page_text, (case["file"], phrase)
        assert all(p in page_text for p in case["drop"]), case["file"]
        in_main += any(p in main_text for p in case["drop"])
    assert in_main >= len(cases) * 2 // 3


def test_many_links_and_toggles_nested_deep_cost_time_in_proportion_to_the_page():
    import time

    rng = random.Random(17)
    markup, paragraphs = notice(rng)
    rows = "".join(f'<li><a href="/p{i}">x{i}</a><input type="checkbox"></li>' for i in range(3000))
    html = f"<html><body><main>{'<div>' * 400}{markup}<ul>{rows}</ul>{'</div>' * 400}</main></body></html>"
    started = time.perf_counter()
    text = texts(html)
    assert time.perf_counter() - started < 2.0
    assert all(p in text for p in paragraphs) and "/p1" not in text
