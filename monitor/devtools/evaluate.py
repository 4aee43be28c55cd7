"""`noticewatch evaluate`: prove noise immunity on the fixtures in tests/fixtures/.

Every case is a page built from a seed notice. The evaluation replays what the monitor would see:

- noisy re-fetches: the same notice rendered twice with different noise (banners, tokens, tracking
  parameters, typography, encodings, PDF re-prints ...) must give zero changes, and must not be
  taken for a suspicious fetch;
- real edits: an edited notice inside the same noise must give a reported (non-cosmetic) change;
- suspicious fetches: error pages served with 200, walls, login redirects, truncated bodies must be
  caught by monitor/fetchcheck.py.

It prints `false changes: X of N noisy re-fetches; missed changes: Y of M real edits; suspicious
fetches caught: Z of K` (targets X = 0, Y = 0, Z = K) and, with --verbose, each failing case.
Noise generators (the Jinja filters and globals below) are how fixture templates ask for noise.
"""

from __future__ import annotations

import html
import random
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import jinja2

from monitor.core import Document
from monitor.devtools.pdf_writer import write_pdf
from monitor.devtools.site import SEED_NAMES, notice_html_body, page_html, seed_text
from monitor.diff import diff_documents
from monitor.extract import FetchPolicy, assess_fetch, extract_document, text_sha256

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
PAGE_URL = "https://www.example.nl/privacy"


# ------------------------------------------------------------------ noise generators


def cfemail_encode(address: str, rng: random.Random) -> str:
    """Cloudflare's obfuscation of an address with a random key (what its edge does per request)."""
    key = rng.randrange(1, 256)
    return f"{key:02x}" + "".join(f"{b ^ key:02x}" for b in address.encode("utf-8"))


_MAILTO = re.compile(r'<a href="mailto:([^"]+)">([^<]*)</a>')
_HREF = re.compile(r'href="([^"#][^"]*)"')


def encoded_pages(cases: dict, seed_id: str, text: str) -> Iterator[tuple[str, bytes, str]]:
    """(name, body, Content-Type) of a seed page in every encoding of encodings.toml (charset in the
    header, in <meta>, a BOM, or none)."""
    for case in cases["case"]:
        page = page_html(SEED_NAMES[seed_id], notice_markup(seed_id, text))
        page = page.replace('<meta charset="utf-8">', f'<meta charset="{case["meta"]}">' if case.get("meta") else "")
        body = page.encode(case["encoding"], errors="xmlcharrefreplace")
        if case.get("bom"):
            body = b"\xef\xbb\xbf" + body
        yield (f"encoding {case['name']}", body,
               f"text/html; charset={case['header']}" if case.get("header") else "text/html")


class Noise:
    """Random noise for one rendering of a fixture page (a fresh instance per request)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def hex(self, n: int = 16) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def int(self, low: int = 0, high: int = 99999) -> int:
        return self.rng.randint(low, high)

    def choice(self, items):
        return self.rng.choice(list(items))

    def shuffled(self, items) -> list:
        items = list(items)
        self.rng.shuffle(items)
        return items

    def stamp(self, fmt: str = "%d-%m-%Y %H:%M:%S") -> str:
        moment = datetime(2026, 1, 1) + timedelta(seconds=self.rng.randrange(0, 400 * 86400))
        return moment.strftime(fmt)

    def cfemail(self, address: str) -> str:
        return cfemail_encode(address, self.rng)

    # filters over the notice's HTML

    def cf_obfuscate(self, markup: str) -> str:
        """Every mailto link as Cloudflare serves it: encoded href and span, new key each time."""
        def obfuscate(match: re.Match) -> str:
            address = html.unescape(match.group(1))
            span = f'<span class="__cf_email__" data-cfemail="{self.cfemail(address)}">[email&#160;protected]</span>'
            inner = match.group(2).replace(html.escape(address), span)
            return f'<a href="/cdn-cgi/l/email-protection#{self.cfemail(address)}">{inner}</a>'

        return _MAILTO.sub(obfuscate, markup)

    def track_links(self, markup: str) -> str:
        """Tracking and session parameters appended to every link."""
        def track(match: re.Match) -> str:
            href = html.unescape(match.group(1))
            if href.startswith(("mailto:", "tel:")):
                return match.group(0)
            sep = "&" if "?" in href else "?"
            params = self.shuffled([f"utm_source={self.hex(4)}", f"utm_campaign=c{self.int()}",
                                    f"gclid={self.hex(20)}", f"fbclid={self.hex(24)}", f"mc_eid={self.hex(10)}",
                                    f"_ga=2.{self.int()}.{self.int()}"])[: self.rng.randint(1, 4)]
            return f'href="{html.escape(href + sep + "&".join(params))}"'

        return _HREF.sub(track, markup)

    def typography(self, markup: str) -> str:
        """Typographic variants a CMS produces between renders: quotes, dashes, spaces, entities,
        zero-width characters, soft hyphens, <b>/<strong>, <br>/<p>, line breaks."""
        rng = self.rng
        out = markup
        if rng.random() < 0.5:
            out = re.sub(r"(?<=\w)'(?=\w)", "\u2019", out)
            out = out.replace("\u2018", "'").replace("\u2019", "'") if rng.random() < 0.5 else out
        if rng.random() < 0.5:
            out = out.replace(" - ", " \u2013 ")
        out = out.replace("<strong>", "<b>").replace("</strong>", "</b>") if rng.random() < 0.5 else out
        out = out.replace("<br>\n", "</p>\n<p>") if rng.random() < 0.5 else out
        words = out.split(" ")
        for i in range(len(words)):
            r = rng.random()
            if any(c in words[i] for c in "<>=&"):
                continue
            if r < 0.05:
                words[i] = words[i] + "&nbsp;"
            elif r < 0.08 and len(words[i]) > 6:
                cut = len(words[i]) // 2
                words[i] = words[i][:cut] + rng.choice(["&shy;", "\u00ad", "\u200b", "&#8203;", "\ufeff"]) \
                    + words[i][cut:]
            elif r < 0.12:
                words[i] = words[i] + rng.choice(["\n", "  ", "\t", " \n  "])
        out = " ".join(words)
        entity = rng.choice([("é", "&eacute;"), ("é", "&#233;"), ("é", "&#xE9;"), ("ë", "&euml;")])
        return out.replace(entity[0], entity[1])

    def accordion(self, markup: str) -> str:
        """Each section after a heading folded into an accordion panel (the WAI-ARIA pattern: a button in
        the heading), randomly open or closed."""
        parts = re.split(r"<(h[23])([^>]*)>(.*?)</h[23]>", markup)
        out = [parts[0]]
        for index in range(1, len(parts) - 3, 4):
            tag, attrs, title, body = parts[index:index + 4]
            panel = f"p{self.hex(6)}"
            open_ = self.rng.random() < 0.5
            out.append(f'<{tag}{attrs}><button class="acc-toggle" aria-expanded="{str(open_).lower()}" '
                       f'aria-controls="{panel}">{title}<span class="icon" aria-hidden="true">{"−" if open_ else "+"}'
                       f'</span></button></{tag}>')
            hidden = "" if open_ else ' hidden aria-hidden="true"'
            out.append(f'<div class="acc-panel" id="{panel}"{hidden}>{body}</div>')
        return "".join(out)


# ------------------------------------------------------------------ fixtures


@dataclass
class Fixtures:
    """The fixture directory: Jinja templates of noise, hard pages and suspicious fetches, plus TOML lists."""

    root: Path
    env: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        # Fixture templates build test pages from our own seed HTML; they are never shown to users.
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(self.root)),  # noqa: S701
                                      undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

    def templates(self, folder: str) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in (self.root / folder).glob("*.html"))

    def toml(self, name: str) -> dict:
        with (self.root / name).open("rb") as handle:
            return tomllib.load(handle)

    def render(self, template: str, rng: random.Random, **context) -> bytes:
        noise = Noise(rng)
        self.env.filters.update(cf_obfuscate=noise.cf_obfuscate, track_links=noise.track_links,
                                typography=noise.typography, accordion=noise.accordion)
        return self.env.get_template(template).render(noise=noise, **context).encode("utf-8")


def notice_markup(seed_id: str, text: str | None = None) -> str:
    return notice_html_body(text if text is not None else seed_text(seed_id))


def clean_page(seed_id: str, text: str | None = None) -> bytes:
    """The notice with plain chrome and no noise: the first fetch every re-fetch is compared with."""
    return page_html(SEED_NAMES[seed_id], notice_markup(seed_id, text)).encode("utf-8")


def extract(body: bytes, content_type: str = "text/html; charset=utf-8") -> Document:
    return extract_document(body, content_type, url=PAGE_URL)


# ------------------------------------------------------------------ evaluation


@dataclass
class Outcome:
    """The three figures, with the names of the cases that missed."""

    noisy: int = 0
    false_changes: list[str] = field(default_factory=list)
    edits: int = 0
    missed: list[str] = field(default_factory=list)
    suspicious: int = 0
    caught: int = 0
    uncaught: list[str] = field(default_factory=list)
    false_suspicions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.false_changes and not self.missed and not self.uncaught and not self.false_suspicions

    def summary(self) -> str:
        return (f"false changes: {len(self.false_changes)} of {self.noisy} noisy re-fetches; "
                f"missed changes: {len(self.missed)} of {self.edits} real edits; "
                f"suspicious fetches caught: {self.caught} of {self.suspicious}")

    def details(self) -> list[str]:
        lines = [f"  false change: {name}" for name in self.false_changes]
        lines += [f"  missed change: {name}" for name in self.missed]
        lines += [f"  not caught: {name}" for name in self.uncaught]
        lines += [f"  good fetch taken for suspicious: {name}" for name in self.false_suspicions]
        return lines


def _differs(old: Document, new: Document) -> str | None:
    """Why `new` is not the same version as `old` (a changed clause), or None."""
    if text_sha256(old) == text_sha256(new):
        return None
    diff = diff_documents(old, new)
    if diff.is_cosmetic_only or not diff.changes:
        return None
    first = diff.changes[0]
    old, new = (first.old.text if first.old else "")[:90], (first.new.text if first.new else "")[:90]
    return f"{first.kind}: {old!r} -> {new!r}"


class Evaluation:
    """Runs every fixture case and counts the outcomes."""

    def __init__(self, fixtures: Fixtures, seeds: list[str] | None = None, policy: FetchPolicy | None = None) -> None:
        self.fx = fixtures
        self.seeds = seeds or list(SEED_NAMES)
        self.policy = policy or FetchPolicy()
        self.outcome = Outcome()
        self._clean: dict[str, Document] = {}

    def clean(self, seed_id: str) -> Document:
        if seed_id not in self._clean:
            self._clean[seed_id] = extract(clean_page(seed_id))
        return self._clean[seed_id]

    def refetches(self, name: str, previous: Document, bodies: Iterator[tuple[bytes, str]]) -> None:
        """Each body is a noisy re-fetch of the same notice: no change, and not suspicious."""
        for index, (body, content_type) in enumerate(bodies, start=1):
            self.outcome.noisy += 1
            document = extract(body, content_type)
            why = _differs(previous, document)
            if why:
                self.outcome.false_changes.append(f"{name} #{index}: {why}")
            reason = assess_fetch(document, body, url=PAGE_URL, final_url=PAGE_URL,
                                  previous_chars=previous.char_count(), policy=self.policy)
            if reason:
                self.outcome.false_suspicions.append(f"{name} #{index}: {reason}")
            previous = document

    def edit(self, name: str, before: bytes, after: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.outcome.edits += 1
        if not _differs(extract(before, content_type), extract(after, content_type)):
            self.outcome.missed.append(name)

    def run(self) -> Outcome:
        self.noise_templates()
        self.encodings()
        self.pdfs()
        self.seed_edits()
        self.hard_pages()
        self.suspicious_fetches()
        return self.outcome

    def noise_templates(self) -> None:
        for template in self.fx.templates("noise"):
            for seed_id in self.seeds:
                bodies = [self.fx.render(template, random.Random(f"{template}:{seed_id}:{n}"),
                                         notice=notice_markup(seed_id), company=SEED_NAMES[seed_id]) for n in range(2)]
                if bodies[0] == bodies[1]:
                    self.outcome.false_changes.append(f"{template} [{seed_id}]: the fixture renders no noise")
                self.refetches(f"{template} [{seed_id}]", self.clean(seed_id),
                               iter([(body, "text/html; charset=utf-8") for body in bodies]))

    def encodings(self) -> None:
        cases = self.fx.toml("encodings.toml")
        extra = cases["sentence"]
        for seed_id in self.seeds[:2]:
            text = seed_text(seed_id).rstrip() + "\n\n" + extra + "\n"
            baseline = extract(clean_page(seed_id, text))
            if extra.split()[0] not in baseline.text() or "€" not in baseline.text():
                self.outcome.false_changes.append(f"encodings [{seed_id}]: baseline lost the test sentence")
            for name, body, header in encoded_pages(cases, seed_id, text):
                self.refetches(f"{name} [{seed_id}]", baseline, iter([(body, header)]))

    def pdfs(self) -> None:
        for seed_id in self.seeds:
            blocks = [(b.kind, b.text) for b in self.clean(seed_id).blocks]
            first = write_pdf(blocks, header=f"{SEED_NAMES[seed_id]} — afgedrukt op 02-03-2026")
            baseline = extract(first, "application/pdf")
            reprints = [(write_pdf(blocks, header=f"{SEED_NAMES[seed_id]} — afgedrukt op 17-11-2026 09:12",
                                   footer="Vertrouwelijk", font_size=11,
                                   page_numbers="Page {page} of {pages}"), "application/pdf"),
                        (write_pdf(blocks, header="", font_size=9, page_numbers="- {page} -"), "application/pdf")]
            self.refetches(f"pdf re-print [{seed_id}]", baseline, iter(reprints))
            html_words = re.findall(r"\w+", self.clean(seed_id).text().replace("paragraph:", ""))
            pdf_words = re.findall(r"\w+", baseline.text().replace("paragraph:", ""))
            lost = sorted(set(html_words) - set(pdf_words))
            if lost:
                self.outcome.false_changes.append(f"pdf [{seed_id}]: words of the notice lost in the PDF: {lost[:5]}")

    def seed_edits(self) -> None:
        edits = self.fx.toml("edits.toml")["edit"]
        noise = self.fx.templates("noise")
        for index, edit in enumerate(edits):
            seed_id = edit["seed"]
            if seed_id not in self.seeds:
                continue
            text = seed_text(seed_id)
            if edit["old"] not in text:
                self.outcome.missed.append(f"edit {edit['what']}: old text not in seed {seed_id}")
                continue
            edited = text.replace(edit["old"], edit["new"], 1)
            template = noise[index % len(noise)]
            pages = [self.fx.render(template, random.Random(f"edit{index}:{n}"), notice=notice_markup(seed_id, t),
                                    company=SEED_NAMES[seed_id]) for n, t in enumerate((text, edited))]
            self.edit(f"edit {edit['what']} [{seed_id}] in {template}", *pages)
            if edit.get("pdf"):
                docs = [extract(clean_page(seed_id, t)) for t in (text, edited)]
                pdfs = [write_pdf([(b.kind, b.text) for b in d.blocks], header=f"afgedrukt {n}")
                        for n, d in enumerate(docs)]
                self.edit(f"edit {edit['what']} [{seed_id}] as PDF", *pdfs, content_type="application/pdf")

    def hard_pages(self) -> None:
        for template in self.fx.templates("hard"):
            seed_id = "ismt"
            context = {"notice": notice_markup(seed_id), "company": SEED_NAMES[seed_id]}

            def page(edited: bool, n: int, template=template, context=context) -> bytes:
                return self.fx.render(template, random.Random(f"{template}:{edited}:{n}"), edited=edited, **context)

            first = extract(page(False, 0))
            self.refetches(f"{template} (unedited)", first, iter([(page(False, 1), "text/html; charset=utf-8")]))
            self.edit(f"{template} (edited)", page(False, 2), page(True, 3))

    def suspicious_fetches(self) -> None:
        cases = self.fx.toml("suspicious.toml")["case"]
        for case in cases:
            seed_id = case.get("seed", "ismt")
            previous = self.clean(seed_id)
            text = seed_text(seed_id)
            keep = case.get("keep_share")
            truncated = text[: int(len(text) * keep)] if keep else text
            body = self.fx.render(case["file"], random.Random(case["file"]), notice=notice_markup(seed_id, truncated),
                                  company=SEED_NAMES[seed_id])
            final_url = PAGE_URL if not case.get("final_path") else "https://www.example.nl" + case["final_path"]
            document = extract(body)
            self.outcome.suspicious += 1
            reason = assess_fetch(document, body, url=PAGE_URL, final_url=final_url,
                                  previous_chars=previous.char_count() if case.get("has_previous", True) else None,
                                  policy=self.policy)
            if reason:
                self.outcome.caught += 1
            else:
                self.outcome.uncaught.append(f"{case['file']} ({case.get('what', '')})")


def evaluate(fixtures_dir: Path | None = None, seeds: list[str] | None = None) -> Outcome:
    """Run the whole evaluation over a fixture directory."""
    return Evaluation(Fixtures(fixtures_dir or DEFAULT_FIXTURES), seeds).run()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m monitor.devtools.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    outcome = evaluate(args.fixtures)
    print(outcome.summary())
    if args.verbose or not outcome.ok:
        for line in outcome.details():
            print(line)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
