"""Topic tags for changed clauses, so a privacy officer can triage a digest at a glance.

The vocabularies live in `monitor/diff/data/topics.toml` (data, not code: a user or translator extends
them without touching Python). Each topic compiles to one regex per language; a clause is tagged
with every topic whose terms occur in its text or its heading path ("7. Uw privacyrechten ›
Cookies" tags its clauses with rights and cookies). No topic → ["other"].
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from monitor.core import CharFold

TOPICS_FILE = Path(__file__).resolve().parent / "data" / "topics.toml"
OTHER = "other"


@functools.cache
def load_topics(path: str | None = None) -> dict[str, dict]:
    """The topic table: {topic: {"doc": str, "nl": [...], "en": [...], ...}} in file order."""
    with open(path or TOPICS_FILE, "rb") as fh:
        return tomllib.load(fh)


def topic_names() -> list[str]:
    """All topics in report order, "other" last."""
    return [*load_topics(), OTHER]


_TOKENS = re.compile(r"[\w'-]+")
_APOSTROPHES = CharFold({"’": "'", "‘": "'", "`": "'"})


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(_APOSTROPHES(text).lower())


_Vocabulary = tuple[dict[str, list[str]], dict[str, list[str]], list[tuple[str, str]]]


@functools.cache
def _vocabulary(language: str | None) -> _Vocabulary:
    """(word prefixes → topics, whole words → topics, [(phrase, topic)]) for one language (None: all).

    Matching on tokens and dictionary look-ups instead of one big regex keeps tagging at
    microseconds per clause.
    """
    prefixes: dict[str, list[str]] = defaultdict(list)
    wholes: dict[str, list[str]] = defaultdict(list)
    phrases: list[tuple[str, str]] = []
    for topic, table in load_topics().items():
        languages: Iterable[str] = (
            [language] if language and language in table else [k for k in table if k != "doc"])
        for lang in languages:
            for term in table.get(lang, []):
                whole = term.endswith("$")
                words = _tokens(term.rstrip("$"))
                if not words:
                    continue
                if len(words) > 1:
                    phrases.append((" " + " ".join(words) + (" " if whole else ""), topic))
                elif whole:
                    wholes[words[0]].append(topic)
                else:
                    prefixes[words[0]].append(topic)
    return dict(prefixes), dict(wholes), phrases


def tag_clause(text: str, heading_path: Iterable[str] = (), language: str | None = None) -> list[str]:
    """Topics of one clause, in the file's order; ["other"] when none applies.

    `language` picks that language's vocabulary (unknown or None: all vocabularies).
    """
    base = language.split("-")[0].lower() if language else None
    prefixes, wholes, phrases = _vocabulary(base)
    words = _tokens(text + " \n " + " \n ".join(heading_path))
    found: set[str] = set()
    for word in words:
        found.update(wholes.get(word, ()))
        for end in range(2, len(word) + 1):
            hit = prefixes.get(word[:end])
            if hit:
                found.update(hit)
    joined = " " + " ".join(words) + " "
    for phrase, topic in phrases:
        if topic not in found and phrase in joined:
            found.add(topic)
    tags = [topic for topic in load_topics() if topic in found]
    return tags or [OTHER]
