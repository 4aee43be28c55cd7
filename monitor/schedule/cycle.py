"""One crawl cycle: run the `notices` spider over the sources and summarise what came of it.

Twisted's reactor starts once per process, so `run_cycle` can run once per process; callers that
need many cycles (demo, daemon, tests) run each in a child process (`run_cycle_subprocess`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from monitor.config import LoadedConfig
from monitor.store import Fetch, Source, SourceStatus, open_db


@dataclass
class CycleSummary:
    """Counts of a cycle, read back from the database (the source of truth)."""

    cycle_id: str
    sources: int = 0
    fetched: int = 0
    unchanged: int = 0
    changed: int = 0
    new: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    suspicious: dict[str, str] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"cycle {self.cycle_id}: {self.sources} sources, {self.fetched} fetched, "
               f"{self.unchanged} unchanged, {self.changed} changed, {self.new} new, {len(self.failed)} failed, "
               f"{len(self.suspicious)} suspicious"]
        out += [f"  failed {source_id}: {reason}" for source_id, reason in sorted(self.failed.items())]
        out += [f"  suspicious {source_id}: {reason} (last good version kept)"
                for source_id, reason in sorted(self.suspicious.items())]
        out += [f"  notice gone {source_id}: {reason}" for source_id, reason in sorted(self.gone.items())]
        out += [f"  notice moved {source_id}: {moves}" for source_id, moves in sorted(self.moved.items())]
        out += [f"  notice found {source_id}: {url} (from its home page)"
                for source_id, url in sorted(self.found.items())]
        return out

    def to_dict(self) -> dict:
        return {"cycle_id": self.cycle_id, "sources": self.sources, "fetched": self.fetched,
                "unchanged": self.unchanged, "changed": self.changed, "new": self.new, "failed": self.failed,
                "suspicious": self.suspicious, "gone": self.gone, "moved": self.moved,
                "found": self.found}


def summarise_cycle(loaded: LoadedConfig, cycle_id: str, source_ids: list[str]) -> CycleSummary:
    engine = open_db(loaded.database_url)
    summary = CycleSummary(cycle_id=cycle_id, sources=len(source_ids))
    with Session(engine) as session:
        fetches = session.exec(select(Fetch).where(Fetch.cycle_id == cycle_id).order_by(Fetch.id)).all()
    last = {f.source_id: f for f in fetches}
    for source_id in source_ids:
        fetch = last.get(source_id)
        if fetch is None:
            summary.failed[source_id] = "not recorded (crawl aborted?)"
        elif fetch.outcome == "failed":
            summary.failed[source_id] = fetch.error or "failed"
        elif fetch.outcome == "suspicious":
            summary.suspicious[source_id] = fetch.error or "suspicious"
        else:
            summary.fetched += 1
            if fetch.outcome in ("unchanged", "not_modified"):
                summary.unchanged += 1
            elif fetch.outcome == "changed":
                summary.changed += 1
            elif fetch.outcome == "first":
                summary.new += 1
    with Session(engine) as session:
        for row in session.exec(select(SourceStatus).where(SourceStatus.source_id.in_(source_ids))):
            if row.gone_reported_cycle == cycle_id:
                summary.gone[row.source_id] = row.problem or "gone"
            if row.moved_reported_cycle == cycle_id:
                summary.moved[row.source_id] = f"{row.moved_from} → {row.moved_to}"
            if row.found_cycle == cycle_id:
                source = session.get(Source, row.source_id)
                summary.found[row.source_id] = source.discovered_url if source else ""
    engine.dispose()
    return summary


# The Scrapy project is started by name: monitor never imports the crawler package.
CRAWLER_SETTINGS, SPIDER_NAME = "crawler.settings", "notices"


def crawler_settings(loaded: LoadedConfig, cycle_id: str, source_ids: list[str] | None = None):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule(CRAWLER_SETTINGS, priority="project")
    if loaded.path is not None:
        settings.set("NOTICEWATCH_CONFIG", str(loaded.path), priority="cmdline")
    settings.set("NOTICEWATCH_CYCLE", cycle_id, priority="cmdline")
    if source_ids:
        settings.set("NOTICEWATCH_SOURCES", ",".join(source_ids), priority="cmdline")
    return settings


def run_cycle(loaded: LoadedConfig, source_ids: list[str] | None = None,
              on_item: Callable[[str, str], None] | None = None) -> CycleSummary:
    """Crawl the sources once in this process (possible once per process) and summarise."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    ids = [s.id for s in loaded.config.sources_named(source_ids)]
    cycle_id = uuid.uuid4().hex[:12]
    process = CrawlerProcess(crawler_settings(loaded, cycle_id, ids))
    crawler = process.create_crawler(SPIDER_NAME)
    if on_item is not None:
        def item_scraped(item, response=None, spider=None) -> None:
            on_item(item.source_id, item.outcome or "")

        crawler.signals.connect(item_scraped, signal=signals.item_scraped, weak=False)
    process.crawl(crawler, sources=ids, cycle=cycle_id)
    process.start()
    return summarise_cycle(loaded, cycle_id, ids)


def run_cycle_subprocess(config_path: str | os.PathLike, source_ids: list[str] | None = None,
                         extra_args: list[str] | None = None, timeout: float | None = None
                         ) -> subprocess.CompletedProcess:
    """Run `noticewatch run` in a child process (a fresh reactor each time)."""
    cmd = [sys.executable, "-m", "monitor", "--config", str(config_path), "run"]
    for source_id in source_ids or []:
        cmd += ["--source", source_id]
    cmd += extra_args or []
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
