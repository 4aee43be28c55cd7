"""Tools for developers and demos, never imported by the product: the local demo site built from the seed
notices, the demo, the evaluation harness and a tiny PDF writer.
"""

from monitor.devtools.demo import run_demo
from monitor.devtools.evaluate import DEFAULT_FIXTURES, Fixtures, evaluate
from monitor.devtools.fleet_site import FleetSites
from monitor.devtools.site import SEED_NAMES, NoticeSite, SitePage, notice_html_body, page_html, seed_text, seed_texts

__all__ = [
    "DEFAULT_FIXTURES",
    "Fixtures",
    "FleetSites",
    "NoticeSite",
    "SEED_NAMES",
    "SitePage",
    "evaluate",
    "notice_html_body",
    "page_html",
    "run_demo",
    "seed_text",
    "seed_texts",
]
