"""Issue 13, point 2: equal text is equal, whatever encoding of it the page serves."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.extract import text_sha256
from monitor.extract.html import extract_html

PAGE_URL = "https://www.example.org/privacy"
SAFE = "abcdefghijklmnopqrstuvwxyz0123456789"
path_chars = st.sampled_from(list(SAFE + "éüß-_~. "))


def _percent(text: str, rng: random.Random) -> str:
    """Each character either as is (when legal) or percent-encoded, with upper or lower case hex."""
    out = []
    for char in text:
        if char in SAFE + "-_~." and rng.random() < 0.5:
            out.append(char)
        else:
            hexes = "".join(f"%{b:02X}" for b in char.encode("utf-8"))
            out.append(hexes.lower() if rng.random() < 0.5 else hexes)
    return "".join(out)


def _references(text: str, rng: random.Random) -> str:
    """Each character as itself, a decimal or a hex character reference."""
    return "".join(rng.choice([c, f"&#{ord(c)};", f"&#x{ord(c):x};", f"&#X{ord(c):X};"]) for c in text)


def _page(path: str, address: str, query: list[tuple[str, str]], rng: random.Random, host_form: int) -> str:
    host = ["https://www.example.org", "HTTPS://WWW.EXAMPLE.ORG:443", "//www.example.org", ""][host_form]
    params = query[:]
    rng.shuffle(params)
    href = host + "/docs/" + _percent(path, rng) + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else
                                                   rng.choice(["", "?"]))
    mail = rng.choice([address, _percent(address, rng)])
    return (f'<html lang="en"><body><main><h1>Privacy</h1><p>Read the <a href="{href}">policy document</a> '
            f'or write to <a href="mailto:{mail}">{_references(address, rng)}</a> with any question.</p>'
            "</main></body></html>")


@settings(max_examples=60, deadline=None)
@given(path=st.text(path_chars, min_size=1, max_size=14).filter(lambda p: p.strip(". ")),
       local=st.text(st.sampled_from(list("abcxyz.-_")), min_size=1, max_size=8).filter(lambda s: s[0] not in ".-"),
       query=st.lists(st.tuples(st.sampled_from(["lang", "doc", "v"]), st.sampled_from(["1", "en", "x2"])),
                      max_size=3, unique_by=lambda kv: kv[0]),
       seeds=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
       hosts=st.tuples(st.integers(0, 3), st.integers(0, 3)))
def test_every_encoding_of_the_same_page_compares_equal(path, local, query, seeds, hosts):
    address = local + "@example.org"
    docs = [extract_html(_page(path, address, query, random.Random(seed), host), url=PAGE_URL)
            for seed, host in zip(seeds, hosts, strict=True)]
    assert text_sha256(docs[0]) == text_sha256(docs[1]), (docs[0].text(), docs[1].text())


@settings(max_examples=40, deadline=None)
@given(path=st.text(st.sampled_from(list(SAFE)), min_size=2, max_size=10), seed=st.integers(0, 10**6),
       position=st.integers(0, 100))
def test_a_changed_link_target_is_still_a_change(path, seed, position):
    index = position % len(path)
    other = path[:index] + ("x" if path[index] != "x" else "y") + path[index + 1:]
    docs = [extract_html(_page(p, "dpo@example.org", [], random.Random(seed), 0), url=PAGE_URL)
            for p in (path, other)]
    assert text_sha256(docs[0]) != text_sha256(docs[1])


def test_tracking_parameters_and_double_escaped_entities_are_not_a_change():
    a = extract_html('<main><p>See <a href="/cookies?utm_source=nl&amp;gclid=abc">cookies</a> '
                     "&amp;eacute; caf&amp;#233;</p></main>", url=PAGE_URL)
    b = extract_html('<main><p>See <a href="/cookies">cookies</a> é café</p></main>', url=PAGE_URL)
    assert text_sha256(a) == text_sha256(b)
