"""Item pipelines: archive the raw body first, then record the fetch and derive versions.

Each stage is a small class built by `from_crawler` and wired in ITEM_PIPELINES, so a stage can be
added, reordered or tested alone. Both share one `Recorder` (database engine, archive, config).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from scrapy import signals
from sqlalchemy.engine import Engine

from crawler.project_config import config_from_settings
from monitor.archive import Archive, ArchiveError
from monitor.config import LoadedConfig
from monitor.core import FetchResult
from monitor.diff import DiffBudget
from monitor.store import (
    AlreadyRecorded,
    FetchState,
    RecordResult,
    conditional_headers,
    fetch_state,
    open_db,
    record_fetch,
    sync_sources,
)

log = logging.getLogger(__name__)


class Recorder:
    """Per-crawl state shared by the pipelines and the spider."""

    def __init__(self, loaded: LoadedConfig, cycle_id: str) -> None:
        self.loaded = loaded
        self.cycle_id = cycle_id
        self.engine: Engine = open_db(loaded.database_url)
        self.archive = Archive(loaded.snapshots_dir)
        self.archive.check_writable()
        sync_sources(self.engine, loaded)
        self.sources = {s.id: s for s in loaded.sources}
        self.results: dict[str, RecordResult] = {}
        self.fleet = None  # the spider in worker mode (crawler/fleet.py): claims each cycle's item

    def conditional_headers(self, source_id: str) -> dict[str, str]:
        return conditional_headers(self.engine, source_id)

    def fetch_state(self, source_id: str) -> FetchState:
        from sqlmodel import Session

        with Session(self.engine) as session:
            return fetch_state(session, source_id)


def get_recorder(crawler) -> Recorder:
    """The crawl's Recorder, created on first use."""
    recorder = getattr(crawler, "noticewatch_recorder", None)
    if recorder is None:
        cycle_id = crawler.settings.get("NOTICEWATCH_CYCLE") or uuid.uuid4().hex
        recorder = Recorder(config_from_settings(crawler.settings), cycle_id)
        crawler.noticewatch_recorder = recorder
    return recorder


class ArchivePipeline:
    """Store every fetched body in the content-addressed archive before anything else sees it."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler) -> ArchivePipeline:
        return cls(get_recorder(crawler))

    def process_item(self, item: FetchResult, spider=None) -> FetchResult:
        if item.body is not None:
            try:
                stored = self.recorder.archive.put(item.body)
            except ArchiveError as exc:
                item.error, item.body = str(exc), None
                return item
            item.archived = stored
        return item


class RecordPipeline:
    """Record the fetch, extract the text and store a new version and change when it moved."""

    def __init__(self, recorder: Recorder, crawler) -> None:
        self.recorder = recorder
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> RecordPipeline:
        pipeline = cls(get_recorder(crawler), crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: FetchResult, spider=None) -> FetchResult:
        loaded = self.recorder.loaded
        source = self.recorder.sources[item.source_id]
        fleet = self.recorder.fleet
        try:
            result = record_fetch(self.recorder.engine, item, source, cycle_id=item.cycle_id or self.recorder.cycle_id,
                                  min_text_chars=loaded.config.crawl.min_text_chars,
                                  claim=fleet.record_claim(item) if fleet is not None else None,
                                  gone_after=loaded.config.crawl.gone_after,
                                  diff_budget=DiffBudget(loaded.config.crawl.diff_timeout,
                                                         loaded.config.crawl.diff_max_chars))
        except AlreadyRecorded:
            result = RecordResult(item.source_id, "duplicate")
        if fleet is not None:
            fleet.recorded(item)
        item.outcome = result.outcome
        self.recorder.results[item.source_id] = result
        return item

    def spider_closed(self, spider, reason: str) -> None:
        """A source that produced nothing this cycle (dropped request, shutdown) is a failed fetch.

        Not so for a worker: its unfinished claims go back to the shared frontier instead.
        """
        if self.recorder.fleet is not None:
            return
        for source_id, source in getattr(spider, "sources", {}).items():
            if source_id in self.recorder.results:
                continue
            item = FetchResult(source_id=source_id, url=source.start_url, fetched_at=datetime.now(UTC),
                             error=f"no response this cycle (crawl ended: {reason})")
            self.recorder.results[source_id] = record_fetch(self.recorder.engine, item, source,
                                                            cycle_id=self.recorder.cycle_id)
