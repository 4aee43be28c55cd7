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
import hashlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from crawler.fleet import FrontierWorkerMixin, frontier_worker
from crawler.middlewares import robots_wanted
from crawler.pipelines import get_recorder
from crawler.project_config import config_from_settings
from crawler.workpool import PageTooHard
from monitor import __version__
from monitor.config import ConfigError, LoadedConfig, SourceConfig
from monitor.core import Document, FetchResult, utcnow
from monitor.diff import learn, masked_sha256
from monitor.extract import (
    FetchPolicy,
    assess_fetch,
    extract_page,
    extraction_failure,
    find_notice_links,
    rules_version,
    text_sha256,
)
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


@dataclass(frozen=True)
class TextHashes:
    """A page's text hash as compared (`text`) and with the source's volatile sites masked (`masked`),
    computed in the worker process that extracted it: hashing a notice's text costs as much as parsing
    it, so the reactor and the database writer use these instead of hashing it again. `learned` are the
    volatile sites a confirming fetch taught (None when it was no confirmation): learning them costs as
    much again."""

    text: str
    masked: str
    learned: tuple | None = None


@dataclass(frozen=True)
class Judgement:
    """What a worker process made of a page: its Document, why it is not the notice if it is not
    (monitor.extract.fetchcheck), or the sentence its extraction failed with; its text's hashes, and the
    hash of the markup it was made from. `same_markup`: the markup was the last good fetch's, so nothing
    was extracted (and `document` is None)."""

    document: Document | None = None
    reason: str | None = None
    failure: str | None = None
    hashes: TextHashes | None = None
    markup: str | None = None
    same_markup: bool = False


def judge_page(body: bytes, content_type: str | None, source: SourceConfig, url: str, requested: str,
               previous_chars: int | None, policy: FetchPolicy, sites: tuple = (),
               confirm_of: Document | None = None, known_markup: str | None = None) -> Judgement:
    """In a worker process: extract and judge the page, unless its markup is `known_markup` (the last good
    fetch's); with `confirm_of`, also what it teaches of volatile sites when it confirms that text."""
    try:
        extraction = extract_page(body, content_type, select=source.select, remove=source.remove,
                                  language=source.language, url=url, known_markup=known_markup)
    except Exception as exc:  # noqa: BLE001  (hostile input: the source's fetch fails with a sentence)
        return Judgement(failure=extraction_failure(exc, url))
    document = extraction.document
    if document is None:
        return Judgement(markup=extraction.markup_sha256, same_markup=True)
    reason = assess_fetch(document, body, url=requested, final_url=url, previous_chars=previous_chars, policy=policy)
    digest = text_sha256(document)
    learned = tuple(learn(confirm_of, document)) if confirm_of is not None and not reason else None
    return Judgement(document, reason, hashes=TextHashes(digest, masked_sha256(document, sites) if sites else digest,
                                                         learned), markup=extraction.markup_sha256)


def worker_mode(sources: object, cycle: object) -> bool:
    """Does a spider given these arguments serve the shared frontier (with a [frontier] configured)?"""
    return sources is None and cycle is None


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
        self.worker_mode = worker_mode(sources, cycle)
        if isinstance(sources, str):
            sources = [s for s in sources.split(",") if s]
        self.source_ids = list(sources or [])
        self.cycle_id = cycle
        self.exit_when_idle = float(exit_when_idle)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> NoticesSpider:
        worker = worker_mode(kwargs.get("sources"), kwargs.get("cycle"))
        if worker and not cls.frontier_worker and config_from_settings(crawler.settings).config.frontier:
            return frontier_worker(cls).from_crawler(crawler, *args, **kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.loaded = config_from_settings(crawler.settings)
        crawl = spider.loaded.config.crawl
        spider.policy = FetchPolicy(min_text_chars=crawl.min_text_chars, max_text_loss=crawl.max_text_loss)
        spider.states = {}
        spider.pool = get_recorder(crawler).pool
        try:
            spider.sources = {s.id: s for s in spider.loaded.config.sources_named(spider.source_ids)}
        except ConfigError as exc:
            print(f"noticewatch: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        if spider.worker_mode and spider.loaded.config.frontier is not None:
            spider.setup_frontier(crawler, spider.exit_when_idle)
        return spider

    def read_states(self, source_ids: list[str]) -> dict[str, FetchState]:
        """What the database knows of these sources before fetching them (one query)."""
        return get_recorder(self.crawler).fetch_states(source_ids)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.frontier is not None:
            for request in self.next_requests():
                yield request
            return
        self.states = self.read_states(list(self.sources))
        requests = [self.request_for(source) for source in self.sources.values()]
        self.crawler.signals.send_catch_log(robots_wanted, urls=[r.url for r in requests
                                                                 if not r.meta.get("dont_obey_robotstxt")])
        for request in requests:
            yield request

    def request_for(self, source: SourceConfig, cycle_id: str | None = None) -> scrapy.Request:
        """The first request of a source's fetch: the notice itself (at its moved or discovered address if
        it has one), or its home page to discover it."""
        if cycle_id is not None or source.id not in self.states:  # a worker's claim: read it now
            self.states[source.id] = self.read_states([source.id]).get(source.id, FetchState())
        state = self.states[source.id]
        url = source.url or state.discovered_url
        if url and state.moved_to and state.moved_from == url:
            url = state.moved_to
        if url:
            request = self.notice_request(source, url, state.conditional_headers(),
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

    async def parse_notice(self, response: Response):
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
        state = self.states.get(source.id, FetchState())
        rules = rules_version(source.select, source.remove)
        digest = hashlib.sha256(body).hexdigest()  # the archive names the body by it: computed once
        fetched = {"status": response.status, "headers": headers, "body": body, "body_sha256": digest}
        common = {**fetched, "moved_to": moved_to(response), "moved_from": requested}
        if state.same_as_last_good(digest, rules):
            yield self._item(meta, response.url, same_body=True, markup_sha256=state.good_markup, **common)
            return
        first_look = "confirm_of" not in meta and "recheck" not in meta  # a second look compares in full
        try:  # in a worker process, under the page time limit: the reactor goes on downloading
            judged: Judgement = await maybe_deferred_to_future(self.pool.submit(
                judge_page, body, headers.get("Content-Type"), source, response.url, requested,
                state.previous_chars, self.policy, state.sites, meta.get("confirm_of"),
                state.known_markup(rules) if first_look else None))
        except (PageTooHard, RuntimeError) as exc:
            error = str(exc) if isinstance(exc, PageTooHard) else f"extraction failed: {exc}"
            yield self._item(meta, response.url, extract_error=error, **fetched)
            return
        if judged.same_markup:
            yield self._item(meta, response.url, same_markup=True, markup_sha256=judged.markup, **common)
            return
        document, reason, hashes = judged.document, judged.reason, judged.hashes
        if judged.failure is not None:
            yield self._item(meta, response.url, extract_error=judged.failure, **fetched)
            return
        if reason and not meta.get("recheck"):
            yield self._again(source, requested, meta, recheck=reason, recheck_sha256=hashes.text if hashes else None)
            return
        crawl = self.loaded.config.crawl
        differs = hashes is not None and state.differs_by(hashes.masked)
        if not reason and document is not None and crawl.confirm and "confirm_of" not in meta and differs:
            # The text moved: fetch again moments later before recording; what differs is volatile.
            yield self._again(source, requested, meta, confirm_of=document, noticewatch_pause=crawl.confirm_delay)
            return
        same_again = reason and hashes is not None and meta.get("recheck_sha256") == hashes.text
        yield self._item(meta, response.url, **fetched,
                         document=document, suspicious=f"{reason} (again after a re-fetch)" if reason else None,
                         moved_to=None if reason else moved_to(response),
                         moved_from=requested, confirm_document=None if reason else meta.get("confirm_of"),
                         held_fetches=2 if same_again else 1, text_sha256=hashes.text if hashes else None,
                         learned_sites=hashes.learned if hashes and not reason else None,
                         markup_sha256=judged.markup,
                         text_moved=document is None or state.comparison_sha256 is None or differs)

    def _again(self, source: SourceConfig, url: str, meta: dict, **extra: Any) -> scrapy.Request:
        """The same notice fetched once more in this cycle (a recheck or a confirmation)."""
        request = self.notice_request(source, url, discovered=meta.get("discovered_url"),
                                      fresh_discovery=meta.get("fresh_discovery", False), **extra)
        if meta.get("cycle_id"):
            request.meta["cycle_id"] = meta["cycle_id"]
        return request

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
            if error == "Forbidden by robots.txt":
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
