"""Many seed-derived notices on several local host names, for the scale tests and bench/scale.py.

Scrapy's politeness slot is per host name, so a fleet test needs several hosts: any 127.x.y.z
address is local on Linux, and each host here is a NoticeSite bound to its own address. Pages are
rendered once per seed and made distinct by a short per-notice paragraph, so serving thousands of
them costs the test little CPU; `edit` changes that paragraph as a company would change a clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from monitor.devtools.site import SEED_NAMES, NoticeSite, SitePage, notice_html_body, page_html, seed_texts

_MARK = re.compile(rb'<article class="notice">\n')


@dataclass
class FleetPage(SitePage):
    """A page rendered on request from its seed's page and its own paragraph (10,000 fit in little memory)."""

    template: bytes = b""
    number: int = 0
    revision: int = 0

    def body(self) -> bytes:
        return _MARK.sub(lambda m: m.group(0) + _paragraph(self.number, self.revision), self.template, count=1)


def _paragraph(number: int, revision: int) -> bytes:
    text = (f"Deze verklaring geldt voor dossier NW-{number:06d} en alle vestigingen die onder dit dossier vallen."
            if revision == 0 else
            f"Deze verklaring geldt voor dossier NW-{number:06d}; sinds herziening {revision} ook voor "
            f"verwerkers buiten de Europese Economische Ruimte.")
    return f"<p>{text}</p>\n".encode()


class FleetSites:
    """`count` notices spread round-robin over `hosts` NoticeSites on 127.0.0.2, 127.0.0.3, ..."""

    def __init__(self, count: int, hosts: int = 4) -> None:
        self.count = count
        templates = {sid: page_html(SEED_NAMES[sid], notice_html_body(text)).encode("utf-8")
                     for sid, text in seed_texts().items()}
        self.seed_ids = sorted(templates)
        self.templates = templates
        self.sites = [NoticeSite(pages={}, host=f"127.0.0.{2 + h}") for h in range(hosts)]
        self.where: dict[str, NoticeSite] = {}
        for number in range(count):
            page_id = f"n{number:06d}"
            seed = self.seed_ids[number % len(self.seed_ids)]
            site = self.sites[number % hosts]
            site.pages[page_id] = FleetPage(SEED_NAMES[seed], "", template=templates[seed], number=number)
            self.where[page_id] = site

    @property
    def page_ids(self) -> list[str]:
        return list(self.where)

    def edit(self, page_id: str) -> None:
        """Change the notice's own paragraph (a material change of one clause)."""
        site = self.where[page_id]
        with site.lock:
            site.pages[page_id].revision += 1
            site.pages[page_id].last_modified += 3600

    def hits(self) -> dict[str, int]:
        """Requests per notice page over all hosts."""
        counts = dict.fromkeys(self.where, 0)
        for site in self.sites:
            with site.lock:
                for _method, path, _headers in site.requests:
                    page_id = path.rsplit("/", 1)[-1]
                    if path.startswith("/privacy/") and page_id in counts:
                        counts[page_id] += 1
        return counts

    def __enter__(self) -> FleetSites:
        for site in self.sites:
            site.start()
        return self

    def __exit__(self, *_exc) -> None:
        for site in self.sites:
            site.stop()

    def write_config(self, path: Path, *, database: str, redis: str | None = None, key_prefix: str = "noticewatch",
                     visibility_timeout: float = 300, delay: float = 0.0, timeout: float = 10,
                     concurrency: int = 16, snapshots: str = "snapshots") -> Path:
        """A noticewatch.toml watching every notice, in scale mode when `redis` is given."""
        lines = ["[storage]", f'database = "{database}"', f'snapshots = "{snapshots}"', "",
                 "[crawl]", f"delay = {delay}", "retries = 1", "retry_backoff = 0.1", f"timeout = {timeout}",
                 f"concurrency = {concurrency}", ""]
        if redis:
            lines += ["[frontier]", f'redis = "{redis}"', f'key_prefix = "{key_prefix}"',
                      f"visibility_timeout = {visibility_timeout}", ""]
        for page_id, site in self.where.items():
            lines += ["[[source]]", f'id = "{page_id}"', f'name = "{site.pages[page_id].company}"',
                      f'url = "{site.url_for(page_id)}"', 'language = "nl"', ""]
        path.write_text("\n".join(lines), encoding="utf-8")
        return path
