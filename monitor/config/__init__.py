"""noticewatch.toml: sources, storage, crawl, schedule, mail, web and frontier settings, validated up
front with one-line errors (`file: key: problem`), and the small languages of durations and schedules.
"""

import lazy_loader

# This face's names are listed once, in __init__.pyi (which type checkers and editors read too); each
# submodule is imported on first use, so `noticewatch run` does not load what only other commands need.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
