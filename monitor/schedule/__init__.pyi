"""Driving cycles on one machine: a crawl cycle (the Scrapy spider started by name), the plan of
scheduled jobs, the APScheduler daemon and the per-source status `noticewatch status` shows.
"""

from .cycle import SPIDER_NAME, crawler_settings, run_cycle, run_cycle_subprocess
from .daemon import Daemon
from .status import STATUS_SCHEMA, due_source_ids, source_statuses

__all__ = [
    "Daemon",
    "SPIDER_NAME",
    "STATUS_SCHEMA",
    "crawler_settings",
    "due_source_ids",
    "run_cycle",
    "run_cycle_subprocess",
    "source_statuses",
]
