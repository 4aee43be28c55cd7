"""Raw body → Document: decoding, HTML/PDF/plain extraction, the registry of named noise rules, the
suspicious-fetch check (walls, error pages, lost text) and finding a notice's link on a home page.
"""

from monitor.extract.discover import find_notice_links
from monitor.extract.fetchcheck import FetchPolicy, assess_fetch
from monitor.extract.html import extract_document
from monitor.extract.noise import RULES, STAGES, text_sha256

__all__ = ["FetchPolicy", "RULES", "STAGES", "assess_fetch", "extract_document", "find_notice_links", "text_sha256"]
