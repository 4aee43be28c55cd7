"""The notice's own date: its "last updated" / "effective" statement, with precision.

A privacy officer compares the text with what the notice says about itself: text changed while
the date stayed (silent change), or the date moved while the text did not (date bump). So the
date is evidence and is kept as found: with its precision (a month is not a day), the sentence it
came from, and never an invented day or month.

How it works, and why it is fast enough to run on every fetch:

1. Triggers are data (`data/date_statements.toml`): named patterns per language (nl, en, de, fr,
   es, it, pt, pl, ro, sv, da, fi, cs), each a listable unit with a doc line. Each block is screened
   with one regex of the patterns' literal stems; only blocks that pass are examined.
2. After a trigger (or just before it: "1 March 2024 (last updated)", "zuletzt im Januar 2024
   aktualisiert") a date phrase must stand in the same sentence. Month names come from dateparser's
   locale data of the trigger's language and of the page's own language; phrases are read by our
   own code, which fixes the precision (day / month / year) and never widens it.
3. Numeric dates are read in the page's locale order (its `lang` attribute: en-US month-first,
   en-GB day-first; otherwise the language's CLDR order from dateparser); dots mean day-first; a
   number above 12 decides the order; a reading later than the fetch date loses to one that is not.
4. Without a trigger: a date standing alone under the title is the notice's date, and a version
   table ("Version | Date | Changes") gives its latest row. Version labels count only when they
   label the notice: a number after "app", "build", "software", ... is a product's.
5. Dates about a law ("de AVG, van kracht sinds 25 mei 2018") are rejected: a law word nearer to
   the trigger than any word naming the notice disqualifies it. Periods ("binnen 30 dagen") never
   match a date phrase.

The configured language comes first, then the page's `lang` attribute, then English; when none of
them finds a statement every language is tried (a configured language may be wrong).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import importlib
import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from monitor.core import Document

PRECISIONS = ("year", "month", "day")
KIND_RANK = {"updated": 0, "effective": 1, "version": 2}
LANGUAGES = ("nl", "en", "de", "fr", "es", "it", "pt", "pl", "ro", "sv", "da", "fi", "cs")
_MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")


@functools.cache
def _locale_info(language: str) -> dict:
    return importlib.import_module(f"dateparser.data.date_translation_data.{language}").info


def _month_names(language: str) -> dict[str, int]:
    """Month names and abbreviations of a language, from dateparser's locale data (CLDR)."""
    info = _locale_info(language)
    names: dict[str, int] = {}
    for number, key in enumerate(_MONTH_KEYS, start=1):
        for name in info.get(key, ()):
            name = name.lower().rstrip(".")
            if len(name) >= 3 and not name.isdigit():
                names.setdefault(name, number)
    return names


class _MonthTables(Mapping[str, dict[str, int]]):
    """Month names per language, read from dateparser's data on first use: importing dateparser costs
    about 35 ms, which a cycle where no page changed (or a command that reads no dates) never needs."""

    @functools.cached_property
    def _tables(self) -> dict[str, dict[str, int]]:
        return {language: _month_names(language) for language in LANGUAGES}

    def __getitem__(self, language: str) -> dict[str, int]:
        return self._tables[language]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


MONTHS: Mapping[str, dict[str, int]] = _MonthTables()


def _full_names(language: str) -> frozenset[str]:
    """Names safe without a day ("pro 2024" in Czech is "for 2024"): 4+ letters or a month's longest name."""
    by_month: dict[int, list[str]] = {}
    for name, number in MONTHS[language].items():
        by_month.setdefault(number, []).append(name)
    return frozenset(n for names in by_month.values() for n in names
                     if len(n) >= 4 or len(n) == max(map(len, names)))


@dataclass(frozen=True)
class StatementPattern:
    """A named trigger for a date statement: `regex` must be followed (or closely preceded) by a date."""

    name: str
    language: str
    kind: str  # updated | effective | version
    regex: str
    doc: str
    window: int = 60  # characters after the trigger in which the date phrase must start
    stems: tuple[str, ...] = ()  # lowercase literals, one of which must occur (cheap pre-screen)
    weak: bool = False  # a bare participle: taken only when no full statement is found

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.regex, re.IGNORECASE)


@functools.cache
def _data() -> dict:
    return tomllib.loads(resources.files("monitor.dates").joinpath("data", "date_statements.toml").read_text("utf-8"))


def _load_patterns() -> list[StatementPattern]:
    return [StatementPattern(name=p["name"], language=p["language"], kind=p["kind"], regex=p["regex"], doc=p["doc"],
                             window=int(p.get("window", 60)), stems=tuple(p["stems"]), weak=bool(p.get("weak")))
            for p in _data()["pattern"]]


STATEMENT_PATTERNS: list[StatementPattern] = _load_patterns()


def list_patterns() -> list[StatementPattern]:
    """All statement patterns, for `--features`-style listing and documentation."""
    return list(STATEMENT_PATTERNS)


class _StemIndex:
    """Which blocks of a document hold each trigger stem (lowercase literals), found on first ask.

    One `str.find` pass per stem over the whole lowercased text, shared by both passes of
    `find_notice_date`: Python's `re` has no multi-literal search, and an alternation of a hundred
    stems tried at every character of every block cost more than reading the statements it found.
    """

    def __init__(self, document: Document) -> None:
        lows = [block.text.lower() for block in document.blocks]
        self.text = "\n".join(lows)
        self.starts = list(itertools.accumulate((len(low) + 1 for low in lows[:-1]), initial=0))
        self.found: dict[str, frozenset[int]] = {}

    def blocks_with(self, stem: str) -> frozenset[int]:
        if stem not in self.found:
            blocks, at = set(), self.text.find(stem)
            while at >= 0:
                blocks.add(bisect.bisect_right(self.starts, at) - 1)
                at = self.text.find(stem, at + 1)
            self.found[stem] = frozenset(blocks)
        return self.found[stem]

    def candidates(self, patterns: list[StatementPattern]) -> dict[int, list[StatementPattern]]:
        """Block index -> the patterns one of whose stems it holds, in the patterns' order."""
        by_block: dict[int, list[StatementPattern]] = {}
        for pattern in patterns:
            for index in frozenset().union(*(self.blocks_with(stem) for stem in pattern.stems)):
                by_block.setdefault(index, []).append(pattern)
        return by_block


@functools.cache
def _word_regex(table: str, languages: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted({w for lang in languages for w in _data()[table].get(lang, ())}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


@functools.cache
def _version_context() -> re.Pattern[str]:
    words = _data()["version_context"]["words"]
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


@functools.cache
def _history_words() -> re.Pattern[str]:
    words = _data()["version_context"]["history"]
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|[*_`#]+")
_VERSION_LABEL = re.compile(r"\s*[:.]?\s*(v?\d+(?:[._-]\d+)*[a-z]?)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[^\W\d]{2})[.!?](?:\s|$)|\n|\s[|·•]\s")
_YEAR = r"(?P<y>(?:19|20)\d{2})"
_DAY = r"(?P<d>[0-3]?\d)(?:\s?(?:st|nd|rd|th|er|re|ste|de|e|º|°|ª|o)(?!\w)|\.|º|°)?"


def _alternation(names) -> str:
    return "(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\.?"


@functools.cache
def _phrase_regexes(languages: tuple[str, ...]) -> list[tuple[str, str, re.Pattern[str]]]:
    """Date phrases in order of preference: (form, precision, regex). Months of every given language."""
    names = {n for lang in languages for n in MONTHS.get(lang, {})}
    full = {n for lang in languages if lang in MONTHS for n in _full_names(lang)}
    month, month_full = f"(?P<m>{_alternation(names)})", f"(?P<m>{_alternation(full)})"
    sep = r"(?:\.\s?|/|-)"
    out = [
        ("iso", "day", r"(?<![\d.])" + _YEAR + r"(?P<s1>[-/.])(?P<b>[01]?\d)(?P=s1)(?P<a>[0-3]?\d)(?![\d])"),
        ("numeric", "day", r"(?<![\d.,])(?P<a>[0-3]?\d)(?P<s1>" + sep + r")(?P<b>[0-3]?\d)" + sep
         + r"(?P<y>(?:19|20)\d{2}|\d{2})(?![\d]|\.\d)"),
        ("dmy", "day", r"(?<![\d.])" + _DAY + r"\s*(?:de\s+|of\s+)?" + month + r",?\s+(?:de\s+|del\s+|of\s+)?"
         + _YEAR + r"(?!\d)"),
        ("mdy", "day", r"(?<!\w)" + month + r"\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?,?\s+" + _YEAR + r"(?!\d)"),
        ("my", "month", r"(?<!\w)" + month_full + r",?\s+(?:de\s+|del\s+|of\s+)?" + _YEAR + r"(?!\d)"),
        ("my-numeric", "month", r"(?<![\d./])(?P<b>[01]?\d)[./]" + _YEAR + r"(?![\d.]\d)"),
        ("year", "year", r"(?<![\d.])" + _YEAR + r"(?![\d.]\d)"),
    ]
    return [(form, precision, re.compile(regex, re.IGNORECASE)) for form, precision, regex in out]


@dataclass(frozen=True)
class _Reading:
    """Where a numeric date is read: the locale's day/month order and the fetch date."""

    order: str  # "DMY" | "MDY"
    today: dt.date
    months: dict[str, int]


def _date_order(tag: str | None, language: str) -> str:
    """Day-first or month-first for numeric dates in the page's locale (en-US vs en-GB), from CLDR."""
    info = _locale_info(language)
    order = info.get("date_order", "DMY")
    if tag and "-" in tag:
        region = tag.replace("_", "-").split("-")
        specific = info.get("locale_specific", {}).get(f"{region[0].lower()}-{region[1].upper()}", {})
        if specific.get("date_order"):
            order = specific["date_order"]
        elif region[1].upper() != "US" and order == "MDY":
            order = "DMY"  # every English-speaking region but the US writes the day first
    if order.startswith("Y"):
        order = "DMY"
    return "MDY" if order.startswith("M") else "DMY"


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _read_numeric(a: int, b: int, year: int, dotted: bool, reading: _Reading) -> dt.date | None:
    """Day and month of "a/b/year": dots mean day-first; a number above 12 decides; then the locale's
    order, unless that reading lies after the fetch date and the other does not."""
    day_first, month_first = _valid(year, b, a), _valid(year, a, b)
    if dotted:
        return day_first
    preferred, other = (month_first, day_first) if reading.order == "MDY" else (day_first, month_first)
    if preferred is None or (other is not None and preferred > reading.today >= other):
        return other
    return preferred


def _read(form: str, m: re.Match[str], reading: _Reading) -> dt.date | None:
    groups = m.groupdict()
    year = int(groups["y"]) if groups.get("y") else None
    if form == "numeric":
        year = year + 2000 if year is not None and year < 100 else year
        return _read_numeric(int(groups["a"]), int(groups["b"]), year, groups["s1"].startswith("."), reading)
    if form == "iso":
        return _valid(year, int(groups["b"]), int(groups["a"]))
    if form == "my-numeric":
        return _valid(year, int(groups["b"]), 1)
    if form == "year":
        return dt.date(year, 1, 1)
    month = reading.months.get(groups["m"].lower().rstrip("."))
    if month is None:
        return None
    return _valid(year, month, int(groups["d"]) if form in ("dmy", "mdy") else 1)


@dataclass(frozen=True)
class _Phrase:
    start: int
    end: int
    precision: str
    value: dt.date


def _phrases(text: str, lo: int, hi: int, languages: tuple[str, ...], reading: _Reading) -> list[_Phrase]:
    """Every readable date phrase in text[lo:hi], the most precise at each place."""
    found: list[_Phrase] = []
    claimed: list[tuple[int, int]] = []  # a day the page wrote but we cannot read is never a year
    for form, precision, regex in _phrase_regexes(languages):
        for m in regex.finditer(text, lo, hi):
            if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in claimed):
                continue
            claimed.append((m.start(), m.end()))
            value = _read(form, m, reading)
            if value is not None and 1990 <= value.year <= reading.today.year + 5:
                found.append(_Phrase(m.start(), m.end(), precision, value))
    return sorted(found, key=lambda p: p.start)


def parse_phrase(phrase: str, language: str, precision: str | None = None,
                 today: dt.date | None = None) -> dt.date | None:
    """Read one date phrase in `language` (numeric order of the language's locale)."""
    reading = _Reading(_date_order(None, language), today or dt.date.today(), MONTHS[language])
    found = _phrases(phrase, 0, len(phrase), (language,), reading)
    return found[0].value if found else None


@dataclass(frozen=True)
class NoticeDate:
    """A notice's own date statement.

    `value` holds the date; for month or year precision it is the first day of that month/year, and
    `precision` says which parts are real. A version label ("Versie: 2018.5b") is kept in `label`
    with `kind == "version"`; it has a value only when the statement also gave a date.
    """

    value: dt.date | None
    precision: str | None
    kind: str
    sentence: str
    label: str | None = None
    language: str | None = None
    pattern: str | None = None
    block_index: int | None = None

    def display(self) -> str:
        """The date as precise as it was given: "2018-05-07", "2018-05", "2018" or the label."""
        if self.value is None:
            return f"version {self.label}" if self.label else "?"
        text = {"day": self.value.isoformat(), "month": self.value.strftime("%Y-%m"),
                "year": str(self.value.year)}[self.precision or "day"]
        return f"{text} (version {self.label})" if self.label else text

    def key(self) -> tuple:
        """What identifies the statement's content: changes of it are `date_changed`."""
        return (self.value, self.precision, self.label)

    def compare(self, other: NoticeDate) -> int | None:
        """-1/0/1 comparing at the coarser of both precisions; None when not comparable.

        "mei 2018" vs "7 mei 2018" compares equal (0): refining a date is not going backwards.
        Version labels without dates compare by natural order of their numbers.
        """
        if self.value is not None and other.value is not None:
            coarse = min(PRECISIONS.index(self.precision or "day"),
                         PRECISIONS.index(other.precision or "day"))
            a, b = _truncate(self.value, coarse), _truncate(other.value, coarse)
            return (a > b) - (a < b)
        if self.label and other.label:
            a, b = _natural(self.label), _natural(other.label)
            return (a > b) - (a < b)
        return None

    def is_after(self, day: dt.date) -> bool:
        """True when the statement is certainly later than `day` (at its own precision)."""
        if self.value is None:
            return False
        coarse = PRECISIONS.index(self.precision or "day")
        return _truncate(self.value, coarse) > _truncate(day, coarse)

    def to_dict(self) -> dict:
        return {"value": self.value.isoformat() if self.value else None, "precision": self.precision,
                "display": self.display(), "kind": self.kind, "label": self.label, "sentence": self.sentence,
                "language": self.language, "pattern": self.pattern, "block_index": self.block_index}

    @classmethod
    def from_dict(cls, data: dict) -> NoticeDate:
        value = dt.date.fromisoformat(data["value"]) if data.get("value") else None
        return cls(value=value, precision=data.get("precision"), kind=data.get("kind", "updated"),
                   sentence=data.get("sentence", ""), label=data.get("label"), language=data.get("language"),
                   pattern=data.get("pattern"), block_index=data.get("block_index"))




def _truncate(value: dt.date, precision_index: int) -> tuple[int, ...]:
    return (value.year, value.month, value.day)[: precision_index + 1]


def _natural(label: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"\d+|[a-z]+", label.lower()))


# ------------------------------------------------------------------ finding statements


def _base(tag: str | None) -> str | None:
    return tag.replace("_", "-").split("-")[0].lower() if tag else None


@dataclass(frozen=True)
class _Context:
    """What the page says about its locale, and the day it was fetched."""

    languages: tuple[str, ...]  # tried, in order
    tags: tuple[str, ...]  # configured language and the page's lang attribute, as given
    today: dt.date

    def reading(self, language: str) -> _Reading:
        tag = next((t for t in self.tags if _base(t) == language), None)
        months: dict[str, int] = {}
        for lang in (language, *self.languages):
            for name, number in MONTHS.get(lang, {}).items():
                months.setdefault(name, number)
        return _Reading(_date_order(tag, language), self.today, months)

    def month_languages(self, language: str) -> tuple[str, ...]:
        return (language, *(lang for lang in self.languages if lang != language))


def _clean(text: str) -> str:
    return _MARKUP.sub(lambda m: m.group(1) or "", text)


# How far a statement's sentence reaches on either side of its trigger. Bounded so that the work per
# trigger is constant: a hostile block of a thousand statements with no sentence end costs linear time.
SENTENCE_REACH = 600
# Triggers read per document: a notice states its date a few times at most; past this many, the page is
# not a notice's ordinary text and the statements found so far are all that is read.
MAX_TRIGGERS = 500


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    floor = max(0, start - SENTENCE_REACH)
    left = floor
    for m in _SENTENCE_END.finditer(text, floor, start):
        left = m.end()
    ceiling = min(len(text), end + SENTENCE_REACH)
    m = _SENTENCE_END.search(text, end, ceiling)
    return left, (m.start() + 1 if m else ceiling)


def _about_a_law(before: str, languages: tuple[str, ...]) -> bool:
    """True when a law word stands nearer to the trigger than any word naming the notice."""
    law = [m.end() for m in _word_regex("law", languages).finditer(before)]
    if not law:
        return False
    notice = [m.end() for m in _word_regex("notice", languages).finditer(before)]
    return max(law) > (max(notice) if notice else -1)


def _statement_at(text: str, m: re.Match[str], pattern: StatementPattern, ctx: _Context) -> dict | None:
    left, right = _sentence_bounds(text, m.start(), m.end())
    languages = ctx.month_languages(pattern.language)
    lead = text[left:m.start()]
    if pattern.weak and len(text) > 100 and lead.strip(" :-–—(|"):
        return None  # a bare participle counts only on a short line or opening its sentence
    if _about_a_law(lead, (pattern.language, "en")):
        return None
    sentence = text[left:right].strip()
    reading = ctx.reading(pattern.language)
    if pattern.kind == "version":
        return _version_at(text, m, pattern, ctx, lead, sentence)
    after = [p for p in _phrases(text, m.end(), min(right, m.end() + pattern.window + 40), languages, reading)
             if p.start <= m.end() + pattern.window]
    phrase = after[0] if after else None
    if phrase is None:  # "1 March 2024 (last updated)", "zuletzt im Januar 2024 aktualisiert"
        before = [p for p in _phrases(text, max(left, m.start() - 60), m.end(), languages, reading)
                  if p.start >= m.start() or m.start() - p.end <= 12]
        phrase = before[-1] if before else None
    if phrase is None:
        return None
    return {"value": phrase.value, "precision": phrase.precision, "kind": pattern.kind, "sentence": sentence,
            "language": pattern.language, "pattern": pattern.name}


def _version_at(text: str, m: re.Match[str], pattern: StatementPattern, ctx: _Context, lead: str,
                sentence: str) -> dict | None:
    """A version statement of the notice; a product's version ("app version 5.12.3", "build 4471") is not."""
    languages = ctx.month_languages(pattern.language)
    label = _VERSION_LABEL.match(text, m.end())
    near = " ".join(text[max(0, m.start() - 40):m.start()].split()[-3:])
    after = " ".join(text[label.end() if label else m.end():][:40].split()[:3])
    if _version_context().search(near) or (label and _version_context().search(after)):
        return None
    if len(text) > 80 and lead.strip(" :-–—(|") and not _word_regex("notice", languages).search(lead):
        return None  # mid-sentence in a long paragraph: a version of something the text talks about
    found = [p for p in _phrases(text, m.end(), min(len(text), m.end() + pattern.window + 60), languages,
                                 ctx.reading(pattern.language)) if p.start <= m.end() + pattern.window + 20]
    phrase = next((p for p in found if p.precision != "year"), None)
    if phrase is not None and label is not None and label.start(1) < phrase.start < label.end(1):
        phrase = None
    if label is not None and phrase is not None and phrase.start <= label.start(1):
        label = None  # "Version: 1 March 2024": the digits belong to the date
    if label is None and phrase is None:
        return None
    return {"value": phrase.value if phrase else None, "precision": phrase.precision if phrase else None,
            "kind": "version", "sentence": sentence, "label": label.group(1) if label else None,
            "language": pattern.language, "pattern": pattern.name}


_VERSION_CELL = re.compile(r"^v?\d+(?:[._]\d+)*[a-z]?$", re.IGNORECASE)


def _version_tables(document: Document, ctx: _Context) -> tuple[list[NoticeDate], set[int]]:
    """Version tables ("Version | Date | Changes"): the row with the latest date is the current version."""
    blocks, found, rows = document.blocks, [], set()
    version_words = [p.compiled for p in STATEMENT_PATTERNS if p.kind == "version"]
    language = ctx.languages[0]
    index = 0
    while index < len(blocks):
        if blocks[index].kind != "table_row":
            index += 1
            continue
        run = []
        while index < len(blocks) and blocks[index].kind == "table_row":
            run.append(index)
            index += 1
        header = _clean(blocks[run[0]].text) + " " + " ".join(blocks[run[0]].heading_path[-1:])
        if not (_history_words().search(header) or any(r.search(header) for r in version_words)):
            continue
        dated = []
        for row in run:
            text = _clean(blocks[row].text)
            phrases = [p for p in _phrases(text, 0, len(text), ctx.languages, ctx.reading(language))
                       if p.precision != "year"]
            if phrases:
                dated.append((max(p.value for p in phrases), phrases[0].precision, row, text))
        if len(dated) < 2:
            continue
        value, precision, row, text = max(dated)
        first_cell = text.split("|")[0].strip()
        found.append(NoticeDate(value, precision, "version", text,
                                label=first_cell if _VERSION_CELL.match(first_cell) else None, language=language,
                                pattern="version-table", block_index=row))
        rows.update(run)
    return found, rows


def _alone_under_title(document: Document, ctx: _Context) -> NoticeDate | None:
    """A date standing alone just under the title (a dateline) is the notice's date."""
    language = ctx.languages[0]
    for index, block in enumerate(document.blocks[:6]):
        if block.kind != "heading" and len(block.text) > 120:
            return None
        text = _clean(block.text).strip(" ()[]–—-|·")
        if block.kind == "heading" or len(text) > 40:
            continue
        phrases = _phrases(text, 0, len(text), ctx.languages, ctx.reading(language))
        if len(phrases) == 1 and phrases[0].precision != "year" and phrases[0].start <= 2 \
                and phrases[0].end >= len(text) - 2:
            return NoticeDate(phrases[0].value, phrases[0].precision, "updated", block.text, language=language,
                              pattern="date-under-title", block_index=index)
    return None


def _statements(document: Document, ctx: _Context, stems: _StemIndex | None = None) -> list[NoticeDate]:
    patterns = [p for p in STATEMENT_PATTERNS if p.language in ctx.languages]
    by_block = (stems or _StemIndex(document)).candidates(patterns)
    found, table_rows = _version_tables(document, ctx)
    blocks = document.blocks
    triggers = 0
    for index in sorted(by_block):
        if triggers > MAX_TRIGGERS:
            break
        if index in table_rows:
            continue
        block, candidates = blocks[index], by_block[index]
        text = _clean(block.text)
        taken: list[tuple[int, int]] = []
        for pattern in candidates:
            for m in pattern.compiled.finditer(text):
                triggers += 1
                if triggers > MAX_TRIGGERS:
                    break
                if pattern.weak and any(a <= m.start() < b for a, b in taken):
                    continue  # already part of a full statement
                result = _statement_at(text, m, pattern, ctx)
                if result is None and len(text) < 120 and index + 1 < len(blocks):
                    # A trigger standing alone (a heading "Last updated") with the date in the next block.
                    nxt = _clean(blocks[index + 1].text)
                    if len(nxt) < 80:
                        joined = text + " " + nxt
                        mm = pattern.compiled.search(joined, m.start())
                        result = _statement_at(joined, mm, pattern, ctx) if mm else None
                        if result is not None:
                            result["block_index"] = index + 1
                if result is not None:
                    taken.append((m.start(), m.end()))
                    found.append(NoticeDate(**{"block_index": index, **result}))
    alone = _alone_under_title(document, ctx)
    if alone is not None:
        found.append(alone)
    return sorted(found, key=lambda s: s.block_index or 0)


def _context(document: Document, language: str | None, today: dt.date | None,
             languages: tuple[str, ...] | None = None) -> _Context:
    page = getattr(document, "page_language", None) or document.language
    tags = tuple(t for t in (language, page) if t)
    if languages is None:
        ordered = [b for b in (_base(language), _base(page)) if b in LANGUAGES]
        languages = tuple(dict.fromkeys([*ordered, "en"])) if ordered else LANGUAGES
    return _Context(languages, tags, today or dt.date.today())


def find_statements(document: Document, language: str | None = None, *,
                    today: dt.date | None = None) -> list[NoticeDate]:
    """Every date statement found, in document order (most callers want `find_notice_date`)."""
    return _statements(document, _context(document, language, today))


_WEAK = frozenset({p.name for p in STATEMENT_PATTERNS if p.weak} | {"date-under-title"})


def find_notice_date(document: Document, language: str | None = None, *,
                     today: dt.date | None = None) -> NoticeDate | None:
    """The notice's last-modified / effective statement, or None when it has none.

    Preference: a dated statement over a bare version label; a full statement over a bare
    "Updated" line or a dateline; "updated" over "effective" over a version; then the first in the
    document. The configured language, the page's `lang` and English are tried first, every
    language when they find nothing.
    """
    ctx, stems = _context(document, language, today), _StemIndex(document)
    statements = _statements(document, ctx, stems)
    if not statements and ctx.languages != LANGUAGES:
        statements = _statements(document, _context(document, language, today, LANGUAGES), stems)
    if not statements:
        return None
    return min(statements, key=lambda s: (0 if s.value else 1, s.pattern in _WEAK, KIND_RANK.get(s.kind, 9),
                                          s.block_index or 0))
