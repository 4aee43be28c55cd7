"""noticewatch: watch privacy notices and report what changed, clause by clause."""

__version__ = "0.1.0"
