"""What every step shares: the extracted Document, the typed fetch result, the shared vocabularies
(fetch outcomes, standings, significance), the one UTC clock, structured log lines and fast character folds.

Nothing here imports another noticewatch package: it is the bottom layer.
"""

from monitor.core.chars import CharFold
from monitor.core.clock import as_utc, iso_utc, utcnow
from monitor.core.document import BLOCK_KINDS, Block, Document
from monitor.core.enums import (
    ACCEPTED_OUTCOMES,
    SIGNIFICANCE_ORDER,
    SUCCESS_OUTCOMES,
    ExitCode,
    FetchOutcome,
    Significance,
    Standing,
)
from monitor.core.fetched import ArchivedBody, FetchResult
from monitor.core.labels import Labels, load_labels
from monitor.core.logfmt import LOG_LEVELS, configure_logging, log_event, setup_logging
from monitor.core.templates import TEMPLATES_ENV, shipped_templates, template_dirs

__all__ = [
    "CharFold",
    "LOG_LEVELS",
    "configure_logging",
    "Labels",
    "load_labels",
    "TEMPLATES_ENV",
    "shipped_templates",
    "template_dirs",
    "ACCEPTED_OUTCOMES",
    "BLOCK_KINDS",
    "SIGNIFICANCE_ORDER",
    "SUCCESS_OUTCOMES",
    "ArchivedBody",
    "Block",
    "Document",
    "ExitCode",
    "FetchOutcome",
    "FetchResult",
    "Significance",
    "Standing",
    "as_utc",
    "iso_utc",
    "log_event",
    "setup_logging",
    "utcnow",
]
