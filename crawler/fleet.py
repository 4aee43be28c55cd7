"""Worker mode of the `notices` spider: take due sources from the shared frontier in Redis.

Built on scrapy-redis's RedisMixin (connection from REDIS_URL, the spider_idle hook that feeds the
spider from a Redis key and keeps it open), with its plain pop replaced by a claim that expires:
a claimed source returns to the frontier unless this worker renews it, so a killed worker loses
nothing. The claim in the database (cycle_item.done_at, set in the fetch's own transaction) makes
each source recorded exactly once per cycle however often Redis hands it out.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from sqlalchemy import update
from sqlmodel import Session, select
from twisted.internet import task

from crawler.pipelines import get_recorder
from monitor.core import FetchResult, utcnow
from monitor.fleet import Frontier, member, parse_member, redis_error
from monitor.store import AlreadyRecorded, CycleItem

log = logging.getLogger(__name__)


def claim_in_db(cycle_id: str, source_id: str, worker_id: str) -> Callable[[Session], None]:
    """The record transaction's first step: mark the cycle's item done, or raise if it already was."""

    def claim(session: Session) -> None:
        result = session.connection().execute(
            update(CycleItem).where(CycleItem.cycle_id == cycle_id, CycleItem.source_id == source_id,
                                    CycleItem.done_at.is_(None)).values(done_at=utcnow(), worker=worker_id))
        if result.rowcount != 1:
            raise AlreadyRecorded(f"{source_id} in cycle {cycle_id}")

    return claim


@functools.cache
def frontier_worker(spider_class: type) -> type:
    """`spider_class` as a frontier worker: with scrapy-redis's RedisMixin behind FrontierWorkerMixin, which
    it is built from. Made for worker mode only, so a cycle on one machine never imports the Redis client."""
    from scrapy_redis.spiders import RedisMixin

    return type(spider_class.__name__, (spider_class, RedisMixin), {"frontier_worker": True})


class FrontierWorkerMixin:
    """Mixed into NoticesSpider; inert unless `setup_frontier` is called (in the class `frontier_worker`
    makes of it: worker mode)."""

    frontier: Frontier | None = None
    frontier_worker = False  # True in the worker class, which has scrapy-redis's RedisMixin

    def setup_frontier(self, crawler, exit_when_idle: float = 0.0) -> None:
        config = self.loaded.config.frontier
        self.frontier = Frontier.from_config(config)
        self.redis_key = self.frontier.queue_key
        self.max_idle_time = exit_when_idle
        self.setup_redis(crawler)
        self.fetch_data = self._claim_batch
        self.count_size = lambda _key: self.frontier.waiting() + self.frontier.claimed()
        self.spider_idle_start_time = time.time()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.in_flight: set[str] = set()
        self.fetched = 0
        self._engine = get_recorder(crawler).engine
        get_recorder(crawler).fleet = self
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_finished, signal=signal)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)
        self._ticker: task.LoopingCall | None = None

    # -- taking work ---------------------------------------------------------------------------------

    def _claim_batch(self, _key: str, batch_size: int) -> list[str]:
        """Claim up to the free capacity; drop (and un-claim) items the database says are done."""
        try:
            claimed = self.frontier.claim(min(batch_size, self.redis_batch_size - len(self.in_flight)))
        except redis_error() as exc:
            log.warning("frontier unavailable: %s", exc)
            return []
        if not claimed:
            return []
        pairs = [parse_member(m) for m in claimed]
        with Session(self._engine) as session:
            done = {(c, s) for c, s in session.exec(select(CycleItem.cycle_id, CycleItem.source_id).where(
                CycleItem.cycle_id.in_({c for c, _ in pairs}), CycleItem.source_id.in_({s for _, s in pairs}),
                CycleItem.done_at.is_not(None)))}
        todo = []
        for value, pair in zip(claimed, pairs, strict=True):
            if pair in done or pair[1] not in self.sources:
                self._skip(value, pair)
            else:
                todo.append(value)
                self.in_flight.add(value)
        return todo

    def _skip(self, value: str, pair: tuple[str, str]) -> None:
        cycle_id, source_id = pair
        if source_id not in self.sources:
            log.warning("source %s of cycle %s is not in this worker's configuration; marked done",
                        source_id, cycle_id)
            with Session(self._engine) as session:
                session.connection().execute(update(CycleItem).where(
                    CycleItem.cycle_id == cycle_id, CycleItem.source_id == source_id, CycleItem.done_at.is_(None))
                    .values(done_at=utcnow(), worker=f"{self.worker_id} (not configured)"))
                session.commit()
        self.frontier.done(value)

    def make_request_from_data(self, data):
        cycle_id, source_id = parse_member(data if isinstance(data, str) else data.decode())
        return self.request_for(self.sources[source_id], cycle_id=cycle_id)

    def spider_idle(self) -> None:
        """Take more work; stay open unless the whole frontier was empty for `exit_when_idle` seconds."""
        self.schedule_next_requests()
        try:
            busy = self.in_flight or self.frontier.waiting() or self.frontier.claimed()
        except redis_error():
            busy = True
        if busy:
            self.spider_idle_start_time = time.time()
        if self.max_idle_time and time.time() - self.spider_idle_start_time >= self.max_idle_time:
            return
        raise DontCloseSpider

    # -- finishing work --------------------------------------------------------------------------------

    def record_claim(self, item: FetchResult) -> Callable[[Session], None] | None:
        if item.cycle_id is None or member(item.cycle_id, item.source_id) not in self.in_flight:
            return None
        return claim_in_db(item.cycle_id, item.source_id, self.worker_id)

    def recorded(self, item: FetchResult) -> None:
        """The fetch is committed (or was a duplicate): the claim is finished."""
        if item.cycle_id is None:
            return
        value = member(item.cycle_id, item.source_id)
        if value in self.in_flight:
            self.fetched += 1
            try:
                self.frontier.done(value)
            except redis_error() as exc:
                log.warning("frontier unavailable: %s", exc)

    def _item_finished(self, item, response=None, spider=None, **_kw) -> None:
        """Stop renewing the item's claim (after an error it expires and is tried again) and top up."""
        if isinstance(item, FetchResult) and item.cycle_id is not None:
            self.in_flight.discard(member(item.cycle_id, item.source_id))
        if self.crawler.engine is not None and self.crawler.engine.spider is not None:
            self.schedule_next_requests()

    # -- liveness ----------------------------------------------------------------------------------------

    def _opened(self, spider=None) -> None:
        self._ticker = task.LoopingCall(self._tick)  # created here: it binds the reactor, installed by now
        self._ticker.start(max(0.2, min(1.0, self.frontier.visibility_timeout / 3)), now=True)

    def _tick(self) -> None:
        """Renew this worker's claims, return dead workers' claims, say we are alive, take new work."""
        try:
            self.frontier.renew(self.in_flight)
            self.frontier.reap()
            self.frontier.heartbeat(self.worker_id, {"host": socket.gethostname(), "pid": os.getpid(),
                                                     "in_flight": len(self.in_flight), "fetched": self.fetched})
        except redis_error() as exc:
            log.warning("frontier unavailable: %s", exc)
            return
        if len(self.in_flight) < self.redis_batch_size and self.crawler.engine.spider is not None:
            self.schedule_next_requests()

    def _closed(self, spider=None, reason: str = "") -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        try:
            self.frontier.release(self.in_flight)
            self.frontier.forget_worker(self.worker_id)
        except redis_error() as exc:
            log.warning("frontier unavailable: %s", exc)
