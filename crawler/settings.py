"""Scrapy settings of the noticewatch crawler.

Values that users tune (delay, timeout, retries, size cap, User-Agent contact) come from
noticewatch.toml and are applied by the `notices` spider's `update_settings`; these are defaults.
"""

from scrapy.settings import default_settings

from monitor import __version__

BOT_NAME = "noticewatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = f"noticewatch/{__version__} (+https://github.com/noticewatch/noticewatch)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Each response's callback yields one item (or one request): Scrapy starts CONCURRENT_ITEMS asyncio
# tasks per response to drain its output, 100 by default — 50,000 idle tasks in a cycle of 500 notices.
# Items of different responses still go through the pipelines side by side.
CONCURRENT_ITEMS = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 % around DOWNLOAD_DELAY
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False
REFERRER_POLICY = "no-referrer"  # never send a Referer (the middleware stays on, so redirects need no warning)

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.BackoffRetryMiddleware": 550,  # Scrapy's retry, with backoff
    "crawler.middlewares.CachedRobotsTxtMiddleware": 100,  # Scrapy's robots.txt, cached in the database
    "crawler.middlewares.HostPaceMiddleware": 110,
    "crawler.middlewares.ConfirmPauseMiddleware": 900,
    "crawler.fleet_politeness.FleetSlotMiddleware": 950,
}
# A lean Scrapy: every part below costs each request or item something and does nothing for this crawl
# (an unchanged cycle of 500 notices: 3.29 -> 2.61 CPU-s, median of 7). Depth: the spider follows no
# links but a home page's notice link, and sets no DEPTH_LIMIT. Meta-copy detection: a debugging
# warning. Offsite and HTTP auth: the spider has no allowed_domains and no credentials. Downloader and
# core stats, log counts: Scrapy's stats, which no one reads (the database holds each fetch). Feed
# export: no feeds. Scrapy 2.19's remote control would listen on a port. Cookies and the telnet console
# are off (COOKIES_ENABLED, TELNETCONSOLE_ENABLED), yet their modules would be imported: the cookie
# middleware's tldextract (with requests and filelock) and Twisted's conch, 0.05-0.1 s a cycle. Retry
# and robots.txt are replaced by the middlewares above. The parts are left out of the base lists, not
# set to None: Scrapy imports every listed component, None or not (remote control imports aiohttp).
unused_parts = (".RemoteControl", ".CoreStats", ".FeedExporter", ".LogCount", ".TelnetConsole", ".DepthMiddleware",
                ".MetaCopyDetectionMiddleware", ".OffsiteMiddleware", ".HttpAuthMiddleware", ".DownloaderStats",
                ".CookiesMiddleware", ".RetryMiddleware", ".RobotsTxtMiddleware")
EXTENSIONS_BASE, SPIDER_MIDDLEWARES_BASE, DOWNLOADER_MIDDLEWARES_BASE = (
    {path: order for path, order in base.items() if not path.endswith(unused_parts)}
    for base in (default_settings.EXTENSIONS_BASE, default_settings.SPIDER_MIDDLEWARES_BASE,
                 default_settings.DOWNLOADER_MIDDLEWARES_BASE))
ITEM_PIPELINES = {
    "crawler.pipelines.ArchivePipeline": 100,
    "crawler.pipelines.RecordPipeline": 200,
}

LOG_LEVEL = "WARNING"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
