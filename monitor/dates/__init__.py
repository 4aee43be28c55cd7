"""The notice's own date statement ("laatst gewijzigd", "last updated", "effective"), with its precision."""

from monitor.dates.notice_date import MONTHS, NoticeDate, find_notice_date

__all__ = ["MONTHS", "NoticeDate", "find_notice_date"]
