"""Find a company's privacy notice from its home page, by the words its links use.

Links are scored by privacy vocabulary (nl, en, de, fr) in their text and address; a link in the
page's own language and on the same site wins ties. The vocabulary lives in data/discovery.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True)
class NoticeLink:
    url: str
    text: str
    score: float


@cache
def _vocabulary() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("monitor.extract").joinpath("data", "discovery.toml").read_text("utf-8")
    return tomllib.loads(raw)


_LANGUAGE_IN_URL = re.compile(r"(?:^|[/._?&=-])(nl|en|de|fr)(?:[/._&-]|$)", re.I)


def _score(text: str, href: str, language: str | None) -> float:
    """Link words (most specific first) score highest; the configured language and an address that
    names privacy add to it; cookie-settings links count against it."""
    vocab = _vocabulary()
    text_l, href_l = text.lower(), href.lower()
    score = 0.0
    for lang, words in vocab["text"].items():
        for rank, word in enumerate(words):
            if word in text_l:
                score = max(score, 10 * (1.0 - rank * 0.02) + (5 if lang == language else 0))
    if any(word in href_l for word in vocab["address"]["any"]):
        score += 3
    if language and score > 0:
        path = urlsplit(href_l)
        found = _LANGUAGE_IN_URL.findall(path.path + "?" + path.query)
        if found:
            score += 2 if language in found else -2
    for word in vocab["avoid"]["any"]:
        if word in text_l or word in href_l:
            score -= 8
    return score


def find_notice_links(html: str, base_url: str, language: str | None = None) -> list[NoticeLink]:
    """Candidate notice links on a page, best first; empty when nothing looks like a privacy notice."""
    from bs4 import BeautifulSoup  # here: only discovery uses it, so a steady cycle never loads it

    soup = BeautifulSoup(html, "lxml")
    site = urlsplit(base_url).hostname
    seen: dict[str, NoticeLink] = {}
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"].strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        text = " ".join(anchor.get_text(" ").split())
        score = _score(text, url, language)
        if score <= 0:
            continue
        if urlsplit(url).hostname == site:
            score += 1
        if url not in seen or seen[url].score < score:
            seen[url] = NoticeLink(url, text, score)
    return sorted(seen.values(), key=lambda link: -link.score)
