"""Item pipelines: archive the raw body first, then record the fetch and derive versions.

Each stage is a small class built by `from_crawler` and wired in ITEM_PIPELINES, so a stage can be
added, reordered or tested alone. Both share one `Recorder` (database engine, archive, config, and its
threads: a few for archive writes and reads, one that commits).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from scrapy import signals
from sqlalchemy.engine import Engine
from sqlmodel import Session
from twisted.internet.defer import Deferred, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from crawler.project_config import config_from_settings
from crawler.workpool import PageTooHard, WorkPool
from monitor.archive import Archive, ArchiveError
from monitor.config import LoadedConfig
from monitor.core import FetchOutcome, FetchResult
from monitor.diff import DiffBudget
from monitor.store import (
    AlreadyRecorded,
    DerivedColumns,
    DiffJob,
    FetchState,
    PlannedDiff,
    RecordResult,
    derive_columns,
    fetch_states,
    open_db,
    plan_diff,
    record_fetch,
    sync_sources,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


#: Threads for archive writes and diff-planning reads (each mostly waits on fsync or the database).
IO_THREADS = 4


class Threads:
    """A thread pool started on first use and stopped when the reactor shuts down."""

    def __init__(self, size: int, name: str) -> None:
        self.pool = ThreadPool(minthreads=0, maxthreads=size, name=name)
        self.started = False

    def run(self, func: Callable[..., T], *args: Any) -> Deferred:
        from twisted.internet import reactor  # not at import: Scrapy installs the reactor it is configured for

        if not self.started:
            self.pool.start()
            reactor.addSystemEventTrigger("during", "shutdown", self.pool.stop)
            self.started = True
        return deferToThreadPool(reactor, self.pool, func, *args)


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
        crawl = loaded.config.crawl
        # Forked now, before the reactor starts threads: the processes that extract pages.
        self.pool = WorkPool(crawl.extract_workers or None, crawl.extract_timeout)
        # Every database write of the crawl goes through one thread: off the reactor, and one SQLite writer
        # at a time (two threads' read-then-write transactions would fail each other with "database is locked").
        self.writer = Threads(1, "noticewatch-db")
        # Archive writes (gzip, fsync) and the reads that plan a diff wait on the disk, not on each other:
        # a few threads beside the writer, so the writer only commits.
        self.io = Threads(IO_THREADS, "noticewatch-io")

    def write(self, func: Callable[..., T], *args: Any) -> Deferred:
        """Run a database write off the reactor thread, after the writes before it."""
        return self.writer.run(func, *args)

    def io_call(self, func: Callable[..., T], *args: Any) -> Deferred:
        """Run an archive write or a database read off the reactor thread, beside the writer."""
        return self.io.run(func, *args)

    def fetch_states(self, source_ids: list[str]) -> dict[str, FetchState]:
        """The states of all of a cycle's sources, in one query."""
        with Session(self.engine) as session:
            return fetch_states(session, source_ids)


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

    def process_item(self, item: FetchResult, spider=None) -> Deferred:
        """In an I/O thread: a new body is fsynced, which must stall neither the reactor nor the database
        writer. The record stage starts only when this one has returned, so a fetch's row never exists
        before its file is durable."""
        return self.recorder.io_call(self._store, item)

    def _store(self, item: FetchResult) -> FetchResult:
        if item.body is not None:
            try:
                stored = self.recorder.archive.put(item.body, item.body_sha256)
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

    def process_item(self, item: FetchResult, spider=None) -> Deferred:
        """Record in the writer thread; a new text's diff is made first in the extraction pool, so
        neither the reactor nor the other sources' writes wait for it."""
        fleet = self.recorder.fleet
        claim = fleet.record_claim(item) if fleet is not None else None
        planned = self._plan(item) if item.text_moved else succeed(None)
        planned.addCallback(lambda plan: self.recorder.write(self._record, item, claim, plan))
        return planned.addCallback(self._recorded, item)

    def _plan(self, item: FetchResult) -> Deferred:
        """The diff this fetch's recording needs, made in a worker process (None: nothing to diff)."""
        budget = self._budget()
        planning = self.recorder.io_call(plan_diff, self.recorder.engine, item,
                                         self.recorder.sources[item.source_id], budget)
        return planning.addCallback(self._derive)

    def _derive(self, job: DiffJob | None) -> Deferred | None:
        if job is None:
            return None
        deriving = self.recorder.pool.submit(derive_columns, job, task="diff")
        deriving.addCallback(lambda columns: PlannedDiff(job, columns))
        return deriving.addErrback(self._derive_failed, job)

    @staticmethod
    def _derive_failed(failure: Failure, job: DiffJob) -> PlannedDiff:
        """A diff past the page time limit, or one that crashed its worker: that source's fetch fails."""
        failure.trap(PageTooHard, RuntimeError)
        reason = failure.getErrorMessage()
        error = reason if failure.check(PageTooHard) else f"diff failed: {reason}"
        return PlannedDiff(job, DerivedColumns({}, error=error))

    def _budget(self) -> DiffBudget:
        crawl = self.recorder.loaded.config.crawl
        return DiffBudget(crawl.diff_timeout, crawl.diff_max_chars)

    def _record(self, item: FetchResult, claim, planned: PlannedDiff | None) -> RecordResult:
        crawl = self.recorder.loaded.config.crawl
        try:
            return record_fetch(self.recorder.engine, item, self.recorder.sources[item.source_id],
                                cycle_id=item.cycle_id or self.recorder.cycle_id, min_text_chars=crawl.min_text_chars,
                                claim=claim, gone_after=crawl.gone_after, archive=self.recorder.archive,
                                diff_budget=self._budget(), planned=planned)
        except AlreadyRecorded:
            return RecordResult(item.source_id, FetchOutcome.DUPLICATE)

    def _recorded(self, result: RecordResult, item: FetchResult) -> FetchResult:
        if self.recorder.fleet is not None:
            self.recorder.fleet.recorded(item)
        item.outcome = result.outcome
        self.recorder.results[item.source_id] = result
        return item

    def spider_closed(self, spider, reason: str) -> Deferred | None:
        """A source that produced nothing this cycle (dropped request, shutdown) is a failed fetch.

        Not so for a worker: its unfinished claims go back to the shared frontier instead.
        """
        if self.recorder.fleet is not None:
            return None
        missing = [s for sid, s in getattr(spider, "sources", {}).items() if sid not in self.recorder.results]
        return self.recorder.write(self._record_missing, missing, reason) if missing else None

    def _record_missing(self, sources: list, reason: str) -> None:
        for source in sources:
            item = FetchResult(source_id=source.id, url=source.start_url, fetched_at=datetime.now(UTC),
                                 error=f"no response this cycle (crawl ended: {reason})")
            self.recorder.results[source.id] = record_fetch(self.recorder.engine, item, source,
                                                            cycle_id=self.recorder.cycle_id)
