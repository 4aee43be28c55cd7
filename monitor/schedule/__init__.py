"""Driving cycles on one machine: a crawl cycle (the Scrapy spider started by name), the plan of
scheduled jobs, the APScheduler daemon and the per-source status `noticewatch status` shows.
"""

import lazy_loader

# This face's names are listed once, in __init__.pyi (which type checkers and editors read too); each
# submodule is imported on first use, so `noticewatch run` does not load what only other commands need.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
