"""Politeness across the fleet: one request at a time per host over all workers, `delay` apart.

Scrapy's own per-host slot only knows its process. In scale mode every request first takes its
host's slot in Redis (SET NX with an expiry, so a killed worker's slot frees itself), and frees it
`delay` seconds after the response, so the next request to that host, from any machine, waits.
"""

from __future__ import annotations

import logging
import uuid

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler.project_config import config_from_settings
from monitor.fleet import Frontier, redis_error

log = logging.getLogger(__name__)

POLL_MS = 25  # longest wait between two looks at a busy slot


class FleetSlotMiddleware:
    """Downloader middleware, active only when [frontier] is configured."""

    def __init__(self, frontier: Frontier, delay: float, timeout: float) -> None:
        self.frontier = frontier
        self.delay_ms = int(delay * 1000)
        self.hold_ms = int((timeout + delay + 5) * 1000)

    @classmethod
    def from_crawler(cls, crawler) -> FleetSlotMiddleware:
        loaded = config_from_settings(crawler.settings)
        if loaded.config.frontier is None:
            raise NotConfigured  # no [frontier]: Scrapy's per-process slots are enough (no warning for that)
        crawl = loaded.config.crawl
        return cls(Frontier.from_config(loaded.config.frontier), crawl.delay, crawl.timeout)

    async def process_request(self, request: Request, spider=None) -> None:
        host = urlparse_cached(request).hostname or ""
        token = uuid.uuid4().hex
        while True:
            try:
                wait_ms = self.frontier.acquire_slot(host, token, self.hold_ms)
            except redis_error() as exc:
                log.warning("politeness slot unavailable (%s); waiting", exc)
                wait_ms = 1000
            if wait_ms == 0:
                break
            await maybe_deferred_to_future(deferLater(reactor, min(wait_ms, POLL_MS) / 1000, lambda: None))
        request.meta["fleet_slot"] = (host, token)
        return None

    def _release(self, request: Request) -> None:
        slot = request.meta.pop("fleet_slot", None)
        if slot is None:
            return
        try:
            self.frontier.release_slot(slot[0], slot[1], self.delay_ms)
        except redis_error() as exc:
            log.warning("politeness slot unavailable (%s); it expires by itself", exc)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        self._release(request)
        return None
