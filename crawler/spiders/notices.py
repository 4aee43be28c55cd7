"""The `notices` spider: one cycle over the configured sources.

Every source yields exactly one FetchResult per cycle, successful or not, so the pipelines can
record failures as carefully as successes. Sources known only by a home page are discovered first
(and rediscovered when their notice goes 404). A response that is not the notice (error page, wall,
lost text: monitor/fetchcheck.py) is re-fetched once before it is given up as a suspicious fetch.
Sources with render = "browser" are fetched through headless Chromium (scrapy-playwright); the
browser handler is configured only when the cycle has such sources.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from crawler.fleet import FrontierWorkerMixin
from crawler.pipelines import get_recorder
from crawler.project_config import config_from_settings
from monitor import __version__
from monitor.config import ConfigError, LoadedConfig, SourceConfig
from monitor.core import FetchResult, utcnow
from monitor.extract import FetchPolicy, assess_fetch, extract_document, find_notice_links
from monitor.store import GONE_STATUSES, FetchState

PERMANENT_REDIRECTS = (301, 308)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


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


def browser_settings(loaded: LoadedConfig, source_ids: list[str] | None = None) -> dict[str, Any]:
    """scrapy-playwright settings, only when a source of this cycle has render = "browser"."""
    sources = loaded.config.sources_named(source_ids) if source_ids else loaded.sources
    if not any(s.render == "browser" for s in sources):
        return {}
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": loaded.config.crawl.browser, "headless": True,
                                      "args": BROWSER_ARGS},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": loaded.config.crawl.timeout * 1000,
    }


def moved_to(response: Response) -> str | None:
    """The address a permanent redirect (301/308) led to, if the response came through one."""
    reasons = response.meta.get("redirect_reasons") or []
    urls = response.meta.get("redirect_urls") or []
    target = None
    for index, reason in enumerate(reasons):
        if reason not in PERMANENT_REDIRECTS:
            break
        target = urls[index + 1] if index + 1 < len(urls) else response.url
    return target if target and urls and target != urls[0] else None


class NoticesSpider(FrontierWorkerMixin, scrapy.Spider):
    """Fetch each configured notice once (`-a sources=id1,id2` limits the cycle).

    With a [frontier] and no `sources`/`cycle` argument it is a worker: it takes due sources from
    the shared frontier until stopped (`-a exit_when_idle=SECONDS` ends it when all work is done).
    """

    name = "notices"

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        loaded = config_from_settings(settings)
        settings.setdict(crawl_settings(loaded), priority="spider")
        selected = [s for s in (settings.get("NOTICEWATCH_SOURCES") or "").split(",") if s]
        with contextlib.suppress(ConfigError):  # unknown ids are reported by from_crawler
            settings.setdict(browser_settings(loaded, selected), priority="spider")

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
        spider.loaded = config_from_settings(crawler.settings)
        crawl = spider.loaded.config.crawl
        spider.policy = FetchPolicy(min_text_chars=crawl.min_text_chars, max_text_loss=crawl.max_text_loss)
        spider.states = {}
        try:
            spider.sources = {s.id: s for s in spider.loaded.config.sources_named(spider.source_ids)}
        except ConfigError as exc:
            print(f"noticewatch: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        if spider.worker_mode and spider.loaded.config.frontier is not None:
            spider.setup_frontier(crawler, spider.exit_when_idle)
        return spider

    def conditional_headers(self, source_id: str) -> dict[str, str]:
        return get_recorder(self.crawler).conditional_headers(source_id)

    def fetch_state(self, source_id: str) -> FetchState:
        return get_recorder(self.crawler).fetch_state(source_id)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.frontier is not None:
            for request in self.next_requests():
                yield request
            return
        for source in self.sources.values():
            yield self.request_for(source)

    def request_for(self, source: SourceConfig, cycle_id: str | None = None) -> scrapy.Request:
        """The first request of a source's fetch: the notice itself (at its moved or discovered address if
        it has one), or its home page to discover it."""
        state = self.states[source.id] = self.fetch_state(source.id)
        url = source.url or state.discovered_url
        if url and state.moved_to and state.moved_from == url:
            url = state.moved_to
        if url:
            request = self.notice_request(source, url, self.conditional_headers(source.id),
                                          discovered=None if source.url else state.discovered_url)
        else:
            request = self.homepage_request(source)
        if cycle_id is not None:
            request.meta["cycle_id"] = cycle_id
        return request

    def homepage_request(self, source: SourceConfig, cycle_id: str | None = None) -> scrapy.Request:
        meta = self._meta(source, discovering=True)
        if cycle_id is not None:
            meta["cycle_id"] = cycle_id
        return scrapy.Request(source.homepage, callback=self.parse_homepage, errback=self.failed,
                              dont_filter=True, meta=meta)

    def _meta(self, source: SourceConfig, **extra: Any) -> dict[str, Any]:
        meta = {"source_id": source.id, "source_url": source.start_url, "handle_httpstatus_list": [304]}
        if not source.obey_robots:
            meta["dont_obey_robotstxt"] = True
        if source.render == "browser":
            meta["playwright"] = True
        meta.update(extra)
        return meta

    def notice_request(self, source: SourceConfig, url: str, headers: dict[str, str] | None = None,
                       discovered: str | None = None, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_notice, errback=self.failed, dont_filter=True,
                              headers=headers or {}, meta=self._meta(source, discovered_url=discovered, **meta))

    def parse_homepage(self, response: Response):
        source = self.sources[response.meta["source_id"]]
        links = find_notice_links(response.text if hasattr(response, "text") else "", response.url,
                                  source.language)
        if not links:
            yield self._item(response.meta, response.url, error="no privacy notice link found on the home page",
                             status=response.status)
            return
        request = self.notice_request(source, links[0].url, discovered=links[0].url, fresh_discovery=True)
        if response.meta.get("cycle_id"):
            request.meta["cycle_id"] = response.meta["cycle_id"]
        yield request

    def parse_notice(self, response: Response):
        meta = response.meta
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        requested = (meta.get("redirect_urls") or [response.request.url])[0]
        if response.status == 304:
            yield self._item(meta, response.url, status=304, headers=headers, not_modified=True,
                             moved_to=moved_to(response), moved_from=requested)
            return
        body = response.body
        if not body.strip():
            yield self._item(meta, response.url, status=response.status, headers=headers, error="empty body")
            return
        source = self.sources[meta["source_id"]]
        document = reason = None
        try:
            document = extract_document(body, headers.get("Content-Type"), select=source.select,
                                        remove=source.remove, language=source.language, url=response.url)
        except Exception:  # noqa: BLE001  (the record stage reports the extraction error)
            document = None
        if document is not None:
            reason = assess_fetch(document, body, url=requested, final_url=response.url,
                                  previous_chars=self.states.get(source.id, FetchState()).previous_chars,
                                  policy=self.policy)
        if reason and not meta.get("recheck"):
            request = self.notice_request(source, requested, discovered=meta.get("discovered_url"), recheck=reason,
                                         fresh_discovery=meta.get("fresh_discovery", False))
            if meta.get("cycle_id"):
                request.meta["cycle_id"] = meta["cycle_id"]
            yield request
            return
        yield self._item(meta, response.url, status=response.status, headers=headers, body=body,
                         document=document, suspicious=f"{reason} (again after a re-fetch)" if reason else None,
                         moved_to=None if reason else moved_to(response),
                         moved_from=requested)

    def failed(self, failure: Failure):
        request = failure.request
        meta = request.meta
        status = None
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            error = f"HTTP {status}"
            source = self.sources[meta["source_id"]]
            if status in GONE_STATUSES and source.homepage and not source.url \
                    and not meta.get("discovering") and not meta.get("fresh_discovery"):
                yield self.homepage_request(source, meta.get("cycle_id"))  # the notice went away: find it again
                return
        elif failure.check(IgnoreRequest):
            error = str(failure.value) or "request ignored"
            if "robots" in error.lower() or "Forbidden by robots.txt" in error:
                error = "forbidden by robots.txt"
        elif failure.check(DownloadCancelledError, CancelledError):
            # Scrapy cancels a download past DOWNLOAD_MAXSIZE: announced by Content-Length, or counted
            # while a chunked body streams in.
            announced = "Expected to receive" in failure.getErrorMessage()
            limit = int(self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            error = f"body larger than max_size ({limit:,} bytes{'' if announced else ', chunked'})"
        else:
            error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield self._item(meta, request.url, status=status, error=error)

    def _item(self, meta: dict, final_url: str, **fields: Any) -> FetchResult:
        return FetchResult(source_id=meta["source_id"], url=meta["source_url"], final_url=final_url,
                         fetched_at=utcnow(), discovered_url=meta.get("discovered_url"),
                         cycle_id=meta.get("cycle_id"), **fields)
