"""The notice's own date: its "last updated" / "effective" statement, with precision.

A privacy officer compares the text with what the notice says about itself: text changed while
the date stayed (silent change), or the date moved while the text did not (date bump). So the
date is evidence and is kept as found: with its precision (a month is not a day), the sentence it
came from, and never an invented day or month.

How it works, and why it is fast enough to run on every fetch:

1. Each block's text is screened with one combined regex of trigger words ("laatst gewijzigd",
   "last updated", "Stand", "dernière mise à jour", ...). Only blocks that pass are examined.
2. Each trigger is a named `StatementPattern` (a listable unit, like urlwatch filters: name,
   language, kind and a docstring-like `doc`). After a trigger, a date phrase must follow within a
   short window and inside the same sentence. Phrases are found with our own regexes (month names
   per language, numeric dates), which also fix the precision (day / month / year).
3. Only those few phrases are handed to `dateparser` (languages passed explicitly, no language
   detection; numeric dates day-first for nl/de/fr), results cached.
4. Dates that are about a law rather than the notice ("de AVG, van kracht sinds 25 mei 2018") are
   rejected: a law word nearer to the trigger than any word naming the notice disqualifies it.
   Periods ("binnen 30 dagen") never match a date phrase.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from monitor.core import Document

PRECISIONS = ("year", "month", "day")
KIND_RANK = {"updated": 0, "effective": 1, "version": 2}
LANGUAGES = ("nl", "en", "de", "fr")

MONTHS: dict[str, dict[str, int]] = {
    "nl": {"januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3, "april": 4,
           "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
           "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
           "december": 12, "dec": 12},
    "en": {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
           "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
           "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
           "dec": 12},
    "de": {"januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feb": 2, "märz": 3, "maerz": 3, "mär": 3,
           "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8,
           "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11,
           "nov": 11, "dezember": 12, "dez": 12},
    "fr": {"janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "mars": 3, "avril": 4,
           "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
           "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
           "décembre": 12, "decembre": 12, "déc": 12},
}


@dataclass(frozen=True)
class StatementPattern:
    """A named trigger for a date statement: `regex` must be followed by a date phrase."""

    name: str
    language: str
    kind: str  # updated | effective | version
    regex: str
    doc: str
    window: int = 60  # characters after the trigger in which the date phrase must start
    stems: tuple[str, ...] = ()  # lowercase literals, one of which must occur (cheap pre-screen)

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.regex, re.IGNORECASE)


STATEMENT_PATTERNS: list[StatementPattern] = [
    # --- Dutch
    StatementPattern("nl-last-changed", "nl", "updated",
                     r"\b(?:laatst|voor\s+het\s+laatst)\s+(?:\w+\s+){0,2}?"
                     r"(?:bijgewerkt|gewijzigd|aangepast|herzien|geactualiseerd|vernieuwd)",
                     'Dutch "laatst bijgewerkt/gewijzigd/aangepast/herzien (op)": the notice\'s last change.',
                     stems=("laatst",)),
    StatementPattern("nl-last-change-noun", "nl", "updated",
                     r"\blaatste\s+(?:wijziging|update|herziening|aanpassing|versie)",
                     'Dutch "laatste wijziging / update / herziening": the last change.',
                     stems=("laatste",)),
    StatementPattern("nl-effective", "nl", "effective",
                     r"\b(?:van\s+kracht|in\s+werking\s+getreden|treedt\s+in\s+werking|geldig\s+"
                     r"(?:per|vanaf|sinds|met\s+ingang\s+van)|ingangsdatum|met\s+ingang\s+van)",
                     'Dutch "van kracht (met ingang van)", "geldig per/vanaf", "ingangsdatum".',
                     stems=("kracht", "werking", "geldig", "ingang")),
    StatementPattern("nl-version", "nl", "version",
                     r"\bversie(?:datum)?\b", 'Dutch "versie[datum]": a version label or a version date.',
                     window=25, stems=("versie",)),
    # --- English
    StatementPattern("en-last-updated", "en", "updated",
                     r"\b(?:last\s+(?:updated|modified|revised|changed|amended|reviewed)|"
                     r"(?:updated|revised|modified|amended)\s+(?:on|as\s+of))",
                     'English "last updated / modified / revised (on)", "updated as of".',
                     stems=("updated", "modified", "revised", "changed", "amended", "reviewed")),
    StatementPattern("en-date-of-revision", "en", "updated",
                     r"\b(?:date\s+of\s+(?:last\s+)?(?:revision|update|modification)|last\s+update|"
                     r"latest\s+(?:update|revision))",
                     'English "date of last revision", "last update", "latest revision".',
                     stems=("date of", "last update", "latest")),
    StatementPattern("en-effective", "en", "effective",
                     r"\b(?:effective\s+(?:date|as\s+of|from|since|on)|effective(?=\s*:)|is\s+effective|"
                     r"takes?\s+effect|in\s+(?:effect|force)\s+(?:as\s+of|from|since|on))",
                     'English "effective date", "effective as of", "in force from".',
                     stems=("effect", "force")),
    StatementPattern("en-version", "en", "version",
                     r"\bversion(?:\s+date)?\b", 'English "version [date]": a version label or date.',
                     window=25, stems=("version",)),
    # --- German
    StatementPattern("de-last-updated", "de", "updated",
                     r"\b(?:zuletzt\s+(?:\w+\s+){0,2}?(?:aktualisiert|geändert|überarbeitet)|"
                     r"letzte\s+(?:aktualisierung|änderung|überarbeitung))",
                     'German "zuletzt aktualisiert/geändert (am)", "letzte Änderung".',
                     stems=("zuletzt", "letzte")),
    StatementPattern("de-stand", "de", "updated",
                     r"\bstand(?=\s*(?::|vom|\d))", 'German "Stand: 01.03.2024" / "Stand vom ...".',
                     window=12, stems=("stand",)),
    StatementPattern("de-effective", "de", "effective",
                     r"\b(?:gültig\s+(?:ab|seit|zum)|in\s+kraft\s+(?:seit|ab|getreten)|wirksam\s+(?:ab|seit))",
                     'German "gültig ab", "in Kraft seit", "wirksam ab".',
                     stems=("gültig", "kraft", "wirksam")),
    StatementPattern("de-version", "de", "version",
                     r"\b(?:version|fassung)\b", 'German "Version / Fassung": a version label or date.',
                     window=25, stems=("version", "fassung")),
    # --- French
    StatementPattern("fr-last-updated", "fr", "updated",
                     r"\b(?:derni[eè]re\s+(?:mise\s+[àa]\s+jour|modification|révision|revision)|"
                     r"mise?\s+[àa]\s+jour\s+le|modifiée?\s+le)",
                     'French "dernière mise à jour", "mise à jour le", "modifiée le".',
                     stems=("derni", "jour", "modifi")),
    StatementPattern("fr-effective", "fr", "effective",
                     r"\b(?:en\s+vigueur\s+(?:le|du|depuis|à\s+compter\s+du|a\s+compter\s+du|au)|"
                     r"date\s+d['’]effet|entrée\s+en\s+vigueur|applicable\s+(?:à\s+compter\s+du|depuis))",
                     'French "en vigueur le / à compter du", "date d\'effet", "entrée en vigueur".',
                     stems=("vigueur", "effet", "applicable")),
    StatementPattern("fr-version", "fr", "version",
                     r"\bversion\b", 'French "version": a version label or date.', window=25,
                     stems=("version",)),
]


@functools.cache
def _screen(names: tuple[str, ...]) -> re.Pattern[str]:
    """One regex of all stems of the named patterns: most blocks are dismissed by a single search."""
    stems = {s for p in STATEMENT_PATTERNS if p.name in names for s in p.stems}
    return re.compile("|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)))


def list_patterns() -> list[StatementPattern]:
    """All statement patterns, for `--features`-style listing and documentation."""
    return list(STATEMENT_PATTERNS)


# Words that show a date belongs to a law, not to the notice, and words that name the notice.
_LAW = re.compile(r"\b(?:avg|gdpr|dsgvo|rgpd|uavg|verordening|regulation|verordnung|règlement|"
                  r"wet|wetgeving|law|gesetz|loi|richtlijn|directive|richtlinie)\b", re.IGNORECASE)
_NOTICE = re.compile(r"(?:verklaring|beleid|statement|policy|notice|erklärung|hinweis|déclaration|"
                     r"politique|avis|\bdeze\b|\bthis\b|\bdiese|\bcette\b|\bdit\b)", re.IGNORECASE)

_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|[*_`#]+")


def _month_alt(language: str) -> str:
    names = sorted(MONTHS[language], key=len, reverse=True)
    return "(?:" + "|".join(re.escape(n) for n in names) + r")\.?"


@functools.cache
def _phrase_regexes(language: str) -> list[tuple[str, re.Pattern[str]]]:
    """Date phrases in order of preference; each yields its precision."""
    month = _month_alt(language)
    day = r"(?:[0-3]?\d)(?:e|er|ste|de|st|nd|rd|th|\.)?"
    year = r"(?:19|20)\d{2}"
    out = [
        ("day", r"(?<!\d)" + year + r"-[01]?\d-[0-3]?\d(?!\d)"),
        ("day", r"(?<![\d.])[0-3]?\d[./-][01]?\d[./-](?:" + year + r"|\d{2})(?![\d.]*\d)"),
        ("day", r"(?<!\d)" + day + r"\s+(?:de\s+)?" + month + r",?\s+" + year + r"(?!\d)"),
    ]
    if language == "en":
        out.append(("day", r"\b" + month + r"\s+[0-3]?\d(?:st|nd|rd|th)?,?\s+" + year + r"(?!\d)"))
    out += [
        ("month", r"\b" + month + r",?\s+" + year + r"(?!\d)"),
        ("month", r"(?<![\d.])[01]?\d[./]" + year + r"(?!\d)"),
        ("year", r"(?<![\d.])" + year + r"(?![\d.]\d)"),
    ]
    return [(p, re.compile(r, re.IGNORECASE)) for p, r in out]


_VERSION_LABEL = re.compile(r"\s*[:.]?\s*(v?\d+(?:[._-]\d+)*[a-z]?)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[^\W\d]{2})[.!?](?:\s|$)|\n")

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


@functools.cache
def _parser(language: str):
    from dateparser.date import DateDataParser

    order = "MDY" if language == "en" else "DMY"
    return DateDataParser(languages=[language], settings={"DATE_ORDER": order, "PREFER_DAY_OF_MONTH": "first",
                                                          "RETURN_AS_TIMEZONE_AWARE": False})


@functools.lru_cache(maxsize=4096)
def parse_phrase(phrase: str, language: str, precision: str) -> dt.date | None:
    """Parse a located date phrase; `precision` comes from the phrase regex, never widened."""
    text = re.sub(r"(?<=\d)(?:e|er|ste|de|st|nd|rd|th)\b", "", phrase)
    text = re.sub(r"(?i)\bde\s+(?=[^\W\d])", "", text) if language == "fr" else text
    value: dt.date | None = None
    if precision == "year":
        value = dt.date(int(re.search(r"\d{4}", phrase).group()), 1, 1)
    else:
        try:
            data = _parser(language).get_date_data(text)
        except Exception:  # dateparser raises on odd input; fall back to our own reading
            data = None
        if data is not None and data.date_obj is not None:
            value = data.date_obj.date()
        else:
            value = _fallback_parse(text, language, precision)
    if value is None:
        return None
    if precision == "month":
        value = value.replace(day=1)
    return value


def _fallback_parse(text: str, language: str, precision: str) -> dt.date | None:
    nums = [int(n) for n in re.findall(r"\d+", text)]
    month = next((m for name, m in sorted(MONTHS[language].items(), key=lambda x: -len(x[0]))
                  if re.search(r"\b" + re.escape(name) + r"\b", text, re.IGNORECASE)), None)
    try:
        if month is not None:
            year = next(n for n in nums if n >= 1900)
            day = next((n for n in nums if n < 32), 1) if precision == "day" else 1
            return dt.date(year, month, day)
        if len(nums) == 3:
            if nums[0] >= 1900:
                return dt.date(nums[0], nums[1], nums[2])
            year = nums[2] + (2000 if nums[2] < 100 else 0)
            d, m = (nums[1], nums[0]) if language == "en" else (nums[0], nums[1])
            return dt.date(year, m, d)
        if len(nums) == 2:
            return dt.date(nums[1], nums[0], 1)
    except (StopIteration, ValueError):
        return None
    return None


def _clean(text: str) -> str:
    return _MARKUP.sub(lambda m: m.group(1) or "", text)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = m.end()
    m = _SENTENCE_END.search(text, end)
    return left, (m.end() if m else len(text))


def _about_a_law(before: str) -> bool:
    """True when a law word stands nearer to the trigger than any word naming the notice."""
    law = [m.end() for m in _LAW.finditer(before)]
    if not law:
        return False
    notice = [m.end() for m in _NOTICE.finditer(before)]
    return max(law) > (max(notice) if notice else -1)


def _find_phrase(text: str, start: int, window: int, language: str) -> tuple[str, str, int] | None:
    """The first date phrase starting within `window` chars after `start`, not past the sentence end."""
    stop = _SENTENCE_END.search(text, start)
    limit = min(start + window, stop.start() if stop else len(text))
    best: tuple[int, int, str, str] | None = None
    for precision, regex in _phrase_regexes(language):
        m = regex.search(text, start, min(len(text), limit + 40))
        if m and m.start() <= limit and (best is None or m.start() < best[0]):
            best = (m.start(), m.end(), precision, m.group())
    if best is None:
        return None
    return best[3], best[2], best[0]


def _plausible(value: dt.date, today: dt.date) -> bool:
    return 1990 <= value.year <= today.year + 5


def find_statements(document: Document, language: str | None = None) -> list[NoticeDate]:
    """Every date statement found, in document order (most callers want `find_notice_date`)."""
    languages = _languages(language or document.language)
    patterns = [p for p in STATEMENT_PATTERNS if p.language in languages]
    screen = _screen(tuple(p.name for p in patterns))
    today = dt.date.today()
    found: list[NoticeDate] = []
    blocks = document.blocks
    for index, block in enumerate(blocks):
        low = block.text.lower()
        if not screen.search(low):
            continue
        candidates = [p for p in patterns if any(stem in low for stem in p.stems)]
        text = _clean(block.text)
        for pattern in candidates:
            for m in pattern.compiled.finditer(text):
                result = _statement_at(text, m, pattern, today)
                if result is None and len(text) < 120 and index + 1 < len(blocks):
                    # A trigger standing alone (a heading "Last updated") with the date in the next block.
                    nxt = _clean(blocks[index + 1].text)
                    if len(nxt) < 80:
                        joined = text + " " + nxt
                        mm = pattern.compiled.search(joined, m.start())
                        result = _statement_at(joined, mm, pattern, today) if mm else None
                        if result is not None:
                            result["block_index"] = index + 1
                if result is not None:
                    found.append(NoticeDate(**{"block_index": index, **result}))
    return found


def _statement_at(text: str, m: re.Match[str], pattern: StatementPattern, today: dt.date) -> dict | None:
    left, right = _sentence_bounds(text, m.start(), m.end())
    if _about_a_law(text[left:m.start()]):
        return None
    sentence = text[left:right].strip()
    if pattern.kind == "version":
        label = _VERSION_LABEL.match(text, m.end())
        phrase = _find_phrase(text, m.end(), pattern.window + 20, pattern.language)
        value = precision = None
        if phrase and phrase[1] != "year" and (label is None or phrase[2] >= label.end(1)
                                               or phrase[2] <= label.start(1)):
            value = parse_phrase(phrase[0], pattern.language, phrase[1])
            precision = phrase[1] if value and _plausible(value, today) else None
            value = value if precision else None
        if label is not None and value is not None and phrase[2] <= label.start(1):
            label = None  # "Version: 1 March 2024": the digits belong to the date
        if label is None and value is None:
            return None
        return {"value": value, "precision": precision, "kind": "version", "sentence": sentence,
                "label": label.group(1) if label else None, "language": pattern.language,
                "pattern": pattern.name}
    phrase = _find_phrase(text, m.end(), pattern.window, pattern.language)
    if phrase is None:
        return None
    value = parse_phrase(phrase[0], pattern.language, phrase[1])
    if value is None or not _plausible(value, today):
        return None
    return {"value": value, "precision": phrase[1], "kind": pattern.kind, "sentence": sentence,
            "language": pattern.language, "pattern": pattern.name}


def _languages(language: str | None) -> tuple[str, ...]:
    if language:
        base = language.split("-")[0].lower()
        if base in LANGUAGES:
            # The notice's language first, English as a frequent second (bilingual footers).
            return (base,) if base == "en" else (base, "en")
    return LANGUAGES


def find_notice_date(document: Document, language: str | None = None) -> NoticeDate | None:
    """The notice's last-modified / effective statement, or None when it has none.

    Preference: a dated "updated" statement over an "effective" one over a version label;
    among equals, the first in the document.
    """
    statements = find_statements(document, language)
    if not statements and language:
        statements = find_statements(document, None)
    if not statements:
        return None
    return min(statements, key=lambda s: (KIND_RANK.get(s.kind, 9) + (0 if s.value else 3),
                                          s.block_index or 0))
