"""Downloader middlewares: retries with exponential backoff, robots.txt cached per origin in the database,
per-host politeness across cycles."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore
from twisted.internet.task import deferLater

from crawler.pipelines import get_recorder
from monitor.store import RobotsTxt, load_last_requests, load_robots, robots_fresh, save_last_requests, save_robots

log = logging.getLogger(__name__)


async def pause(seconds: float) -> None:
    """Wait without blocking the reactor."""
    from twisted.internet import reactor  # not at import: Scrapy installs the reactor it is configured for

    if seconds > 0:
        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry policy, but each retry waits base * 2**(n-1) seconds (with jitter) first.

    A `Retry-After` header in seconds is honoured, capped at RETRY_BACKOFF_MAX.
    """

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def _delay(self, request: Request, response: Response | None = None) -> float:
        attempt = request.meta.get("retry_times", 0) + 1
        delay = self.backoff_base * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        if response is not None:
            retry_after = response.headers.get(b"Retry-After")
            if retry_after and retry_after.strip().isdigit():
                delay = max(delay, float(retry_after.strip()))
        return min(delay, self.backoff_max)

    async def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await pause(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        delay = self._delay(request)
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await pause(delay)
        return retry


# RFC 9309 2.5: a crawler parses at least 500 KiB of robots.txt, whatever the notices' own size cap.
ROBOTS_MAX_SIZE = 500 * 1024

#: Sent by the spider, with `urls=` its first requests' addresses, before it yields them: the robots.txt
#: of every origin not cached is fetched at once, side by side. Otherwise each first request would hold
#: one of the CONCURRENT_REQUESTS places while its origin's robots.txt is fetched and the host's
#: `delay` after it passes: a first cycle of 500 hosts took 64 hosts a second (11.7 s, 9 of it robots).
robots_wanted = object()


def robots_origin(url: str) -> str:
    """The origin a URL's robots.txt belongs to (RFC 9309 2.3: scheme, host and port)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class RobotsPolicy:
    """What an origin's robots.txt allows: a parser, everything (no parser), or nothing (`refusal`)."""

    parser: Any = None
    refusal: str | None = None

    def refuses(self, url: str, useragent: str | bytes) -> str | None:
        if self.refusal is not None:
            return self.refusal
        if self.parser is not None and not self.parser.allowed(url, useragent):
            return "Forbidden by robots.txt"
        return None


class CachedRobotsTxtMiddleware:
    """robots.txt per origin, cached in the database (crawl hosts) and honoured for up to 24 hours.

    As RFC 9309 says: a 2xx robots.txt is parsed; a 4xx one means everything is allowed (both are
    stored, so the next cycles and every fleet worker ask nothing); a 5xx answer or an unreachable
    server means everything is disallowed for this cycle (not stored, asked again next cycle).
    Requests waiting on one robots.txt each get their own Deferred from the single download.
    """

    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler, recorder) -> None:
        self.crawler = crawler
        self.recorder = recorder
        self.engine = recorder.engine
        self.useragent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings["USER_AGENT"]
        self.parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        self.stored: dict[str, RobotsTxt] | None = None
        self.policies: dict[str, RobotsPolicy] = {}
        self.waiting: dict[str, list[Deferred]] = {}
        self.writes: set[Deferred] = set()
        self.warming = DeferredSemaphore(crawler.settings.getint("CONCURRENT_REQUESTS"))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.warm, signal=robots_wanted)

    @classmethod
    def from_crawler(cls, crawler) -> CachedRobotsTxtMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler, get_recorder(crawler))

    async def process_request(self, request: Request, spider=None) -> None:
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        policy = await self.policy(request)
        refusal = policy.refuses(request.url, request.headers.get(b"User-Agent") or self.useragent)
        if refusal:
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest(refusal)

    def warm(self, urls: list[str]) -> None:
        """Start fetching the robots.txt of these URLs' origins that are not cached (at most
        CONCURRENT_REQUESTS at a time); their requests then wait on the fetch already under way."""
        now = datetime.now(UTC)
        for origin in dict.fromkeys(map(robots_origin, urls)):
            if origin not in self.policies and origin not in self.waiting and self._fresh(origin, now) is None:
                self.warming.run(lambda origin=origin: deferred_from_coro(self.policy_of(origin)))

    async def policy(self, request: Request) -> RobotsPolicy:
        return await self.policy_of(robots_origin(request.url))

    async def policy_of(self, origin: str) -> RobotsPolicy:
        if origin in self.policies:
            return self.policies[origin]
        if origin in self.waiting:
            mine: Deferred = Deferred()
            self.waiting[origin].append(mine)
            return await maybe_deferred_to_future(mine)
        self.waiting[origin] = []
        try:
            policy = await self._load(origin)
        except Exception as exc:  # noqa: BLE001  (never leave the waiters hanging)
            policy = RobotsPolicy(refusal=f"robots.txt unusable ({type(exc).__name__}: {exc}): disallowed this cycle")
        self.policies[origin] = policy
        for waiter in self.waiting.pop(origin):
            waiter.callback(policy)
        return policy

    def _parsed(self, status: int, body: str | None) -> RobotsPolicy:
        if 200 <= status < 300:
            return RobotsPolicy(parser=build_from_crawler(self.parser_class, self.crawler, (body or "").encode()))
        return RobotsPolicy()  # 4xx (and a redirect loop's 3xx): "unavailable", everything allowed

    def _fresh(self, origin: str, now: datetime) -> RobotsTxt | None:
        """The origin's stored robots.txt if it is within its 24 hours."""
        if self.stored is None:
            self.stored = load_robots(self.engine)  # every origin's, in one query
        row = self.stored.get(origin)
        return row if row is not None and robots_fresh(row, now) else None

    async def _load(self, origin: str) -> RobotsPolicy:
        now = datetime.now(UTC)
        row = self._fresh(origin, now)
        if row is not None:
            self.crawler.stats.inc_value("robotstxt/cached")
            return self._parsed(row.status, row.body)
        request = Request(f"{origin}/robots.txt", priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK,
                          meta={"dont_obey_robotstxt": True, "download_maxsize": ROBOTS_MAX_SIZE,
                                "download_warnsize": 0})
        self.crawler.stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001  (unreachable: disallow, RFC 9309 2.3.1.4)
            # The site itself did not answer: say that first (the notice is not fetched this cycle).
            return RobotsPolicy(refusal=f"site unreachable ({type(exc).__name__}: {exc}); not fetched this cycle")
        if response.status >= 500:
            return RobotsPolicy(refusal=f"robots.txt answered HTTP {response.status}: disallowed this cycle")
        body = response.body.decode("utf-8", "replace") if 200 <= response.status < 300 else None
        write = self.recorder.write(save_robots, self.engine, origin, response.status, body, now)
        self.writes.add(write)
        write.addErrback(lambda failure: log.warning("robots.txt of %s not stored: %s", origin, failure.value))
        write.addBoth(lambda result: self.writes.discard(write))
        return self._parsed(response.status, body)

    def spider_closed(self, spider=None, reason: str = "") -> Deferred:
        return DeferredList(list(self.writes))


class HostPaceMiddleware:
    """Per-host politeness across cycles: a host's first request of this crawl waits until `delay` has
    passed since the last request any earlier cycle sent it (Scrapy's slots keep it within the crawl).
    Last request times are stored per host when the crawl ends."""

    def __init__(self, recorder, delay: float) -> None:
        self.recorder = recorder
        self.engine = recorder.engine
        self.delay = delay
        self.previous: dict[str, datetime] | None = None
        self.started: set[str] = set()
        self.last: dict[str, datetime] = {}

    @classmethod
    def from_crawler(cls, crawler) -> HostPaceMiddleware:
        middleware = cls(get_recorder(crawler), crawler.settings.getfloat("DOWNLOAD_DELAY"))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def process_request(self, request: Request, spider=None) -> None:
        host = urlparse_cached(request).hostname or ""
        if host in self.started:
            return
        self.started.add(host)
        if self.previous is None:
            self.previous = load_last_requests(self.engine) if self.delay > 0 else {}
        last = self.previous.get(host)
        if last is not None:
            wait = self.delay - (datetime.now(UTC) - last).total_seconds()
            if wait > 0:
                await pause(min(wait, self.delay))

    def _seen(self, request: Request) -> None:
        self.last[urlparse_cached(request).hostname or ""] = datetime.now(UTC)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        self._seen(request)
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None) -> None:
        self._seen(request)

    def spider_closed(self, spider=None, reason: str = "") -> Deferred | None:
        if not self.last or self.delay <= 0:
            return None
        return self.recorder.write(save_last_requests, self.engine, dict(self.last))


class ConfirmPauseMiddleware:
    """The confirming re-fetch of a changed text waits `meta["noticewatch_pause"]` seconds first
    ([crawl] confirm_delay), so two fetches moments apart show what varies per request. It runs
    before the download slot (and the fleet's host slot) is taken: the host's delay still holds."""

    async def process_request(self, request: Request, spider=None) -> None:
        seconds = float(request.meta.get("noticewatch_pause") or 0)
        await pause(seconds)
        return None
