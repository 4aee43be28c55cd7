"""The `notices` spider: one cycle over the configured sources.

Every source yields exactly one FetchItem per cycle, successful or not, so the pipelines can
record failures as carefully as successes. Sources known only by a home page are discovered first.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.fleet import FrontierWorkerMixin
from crawler.items import FetchItem
from monitor import __version__
from monitor.config import ConfigError, LoadedConfig, SourceConfig, load_config
from monitor.discover import find_notice_links


def _config_from_settings(settings) -> LoadedConfig:
    try:
        return load_config(settings.get("NOTICEWATCH_CONFIG") or None)
    except ConfigError as exc:
        print(f"noticewatch: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def crawl_settings(loaded: LoadedConfig) -> dict[str, Any]:
    """Scrapy settings derived from the [crawl] table of the configuration."""
    crawl = loaded.config.crawl
    return {
        "USER_AGENT": f"noticewatch/{__version__} (+{crawl.contact_url})",
        "DOWNLOAD_DELAY": crawl.delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.delay, 0.1),
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        "RETRY_BACKOFF_BASE": crawl.retry_backoff,
        "DOWNLOAD_MAXSIZE": crawl.max_size,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        **({"REDIS_URL": loaded.config.frontier.redis} if loaded.config.frontier else {}),
    }


def _now() -> datetime:
    return datetime.now(UTC)


class NoticesSpider(FrontierWorkerMixin, scrapy.Spider):
    """Fetch each configured notice once (`-a sources=id1,id2` limits the cycle).

    With a [frontier] and no `sources`/`cycle` argument it is a worker: it takes due sources from
    the shared frontier until stopped (`-a exit_when_idle=SECONDS` ends it when all work is done).
    """

    name = "notices"

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        loaded = _config_from_settings(settings)
        settings.setdict(crawl_settings(loaded), priority="spider")

    def __init__(self, *args: Any, sources: str | list[str] | None = None, cycle: str | None = None,
                 exit_when_idle: str | float = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_mode = sources is None and cycle is None
        if isinstance(sources, str):
            sources = [s for s in sources.split(",") if s]
        self.source_ids = list(sources or [])
        self.cycle_id = cycle
        self.exit_when_idle = float(exit_when_idle)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> NoticesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.loaded = _config_from_settings(crawler.settings)
        try:
            spider.sources = {s.id: s for s in spider.loaded.config.sources_named(spider.source_ids)}
        except ConfigError as exc:
            print(f"noticewatch: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        if spider.worker_mode and spider.loaded.config.frontier is not None:
            spider.setup_frontier(crawler, spider.exit_when_idle)
        return spider

    def conditional_headers(self, source_id: str) -> dict[str, str]:
        from crawler.pipelines import get_recorder

        return get_recorder(self.crawler).conditional_headers(source_id)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.frontier is not None:
            for request in self.next_requests():
                yield request
            return
        for source in self.sources.values():
            yield self.request_for(source)

    def request_for(self, source: SourceConfig, cycle_id: str | None = None) -> scrapy.Request:
        """The first request of a source's fetch: the notice itself, or its home page to discover it."""
        if source.url:
            request = self.notice_request(source, source.url, self.conditional_headers(source.id))
        else:
            request = scrapy.Request(source.homepage, callback=self.parse_homepage, errback=self.failed,
                                     dont_filter=True, meta=self._meta(source, discovering=True))
        if cycle_id is not None:
            request.meta["cycle_id"] = cycle_id
        return request

    def _meta(self, source: SourceConfig, **extra: Any) -> dict[str, Any]:
        meta = {"source_id": source.id, "source_url": source.start_url, "handle_httpstatus_list": [304]}
        if not source.obey_robots:
            meta["dont_obey_robotstxt"] = True
        meta.update(extra)
        return meta

    def notice_request(self, source: SourceConfig, url: str, headers: dict[str, str] | None = None,
                       discovered: str | None = None) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_notice, errback=self.failed, dont_filter=True,
                              headers=headers or {}, meta=self._meta(source, discovered_url=discovered))

    def parse_homepage(self, response: Response):
        source = self.sources[response.meta["source_id"]]
        links = find_notice_links(response.text if hasattr(response, "text") else "", response.url,
                                  source.language)
        if not links:
            yield self._item(response.meta, response.url, error="no privacy notice link found on the home page",
                             status=response.status)
            return
        request = self.notice_request(source, links[0].url, discovered=links[0].url)
        if response.meta.get("cycle_id"):
            request.meta["cycle_id"] = response.meta["cycle_id"]
        yield request

    def parse_notice(self, response: Response):
        meta = response.meta
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        if response.status == 304:
            yield self._item(meta, response.url, status=304, headers=headers, not_modified=True)
            return
        body = response.body
        error = None if body.strip() else "empty body"
        yield self._item(meta, response.url, status=response.status, headers=headers,
                         body=body if body.strip() else None, error=error)

    def failed(self, failure: Failure):
        request = failure.request
        meta = request.meta
        status = None
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            error = f"HTTP {status}"
        elif failure.check(IgnoreRequest):
            error = str(failure.value) or "request ignored"
            if "robots" in error.lower() or "Forbidden by robots.txt" in error:
                error = "forbidden by robots.txt"
        else:
            error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield self._item(meta, request.url, status=status, error=error)

    def _item(self, meta: dict, final_url: str, **fields: Any) -> FetchItem:
        return FetchItem(source_id=meta["source_id"], url=meta["source_url"], final_url=final_url,
                         fetched_at=_now(), discovered_url=meta.get("discovered_url"),
                         cycle_id=meta.get("cycle_id"), **fields)
