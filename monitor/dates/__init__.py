"""The notice's own date statement ("laatst gewijzigd", "last updated", "effective"), with its precision."""

from monitor.dates.notice_date import (
    LANGUAGES,
    MONTHS,
    NoticeDate,
    StatementPattern,
    find_notice_date,
    find_statements,
    list_patterns,
)

__all__ = ["LANGUAGES", "MONTHS", "NoticeDate", "StatementPattern", "find_notice_date", "find_statements",
           "list_patterns"]
