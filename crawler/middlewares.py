"""Downloader middlewares: retries with exponential backoff, robots.txt shared by waiting requests."""

from __future__ import annotations

import random

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater


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

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    async def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await self._wait(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        delay = self._delay(request)
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await self._wait(delay)
        return retry


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, safe for many requests waiting on one robots.txt.

    Scrapy hands every waiting request the same Deferred; turning it into a future for the first
    waiter consumes its result, so later waiters got no parser and were let through. Each waiter
    here gets its own Deferred fed from the shared one, which keeps the parser for everybody.
    """

    async def robot_parser(self, request: Request):
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            mine: Deferred = Deferred()

            def relay(result):
                mine.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


class ConfirmPauseMiddleware:
    """The confirming re-fetch of a changed text waits `meta["noticewatch_pause"]` seconds first
    ([crawl] confirm_delay), so two fetches moments apart show what varies per request. It runs
    before the download slot (and the fleet's host slot) is taken: the host's delay still holds."""

    async def process_request(self, request: Request, spider=None) -> None:
        seconds = float(request.meta.get("noticewatch_pause") or 0)
        if seconds > 0:
            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
        return None
