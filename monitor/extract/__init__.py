"""Raw body → Document: decoding, HTML/PDF/plain extraction, the registry of named noise rules, the
suspicious-fetch check (walls, error pages, lost text) and finding a notice's link on a home page.
"""

from monitor.extract.bodytext import ExtractionError, decode_body, extraction_failure
from monitor.extract.discover import find_notice_links
from monitor.extract.fetchcheck import FetchPolicy, assess_fetch
from monitor.extract.html import EXTRACTION_RULES, Extraction, extract_document, extract_page, rules_version
from monitor.extract.noise import RULES, STAGES, canonical_url, comparison_text, text_sha256

__all__ = ["EXTRACTION_RULES", "Extraction", "ExtractionError", "FetchPolicy", "RULES", "STAGES", "assess_fetch",
           "canonical_url", "comparison_text", "decode_body", "extract_document", "extract_page", "extraction_failure",
           "find_notice_links", "rules_version", "text_sha256"]
