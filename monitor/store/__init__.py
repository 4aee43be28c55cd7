"""Everything kept in the database: every table and the engine (SQLite by default, PostgreSQL by URL),
Alembic migrations, recording a fetch, re-extraction from the archive, crawl locks, the source
standing every surface shows, the digest outbox's state transitions, search and the read side.
"""

import lazy_loader

# This face's names are listed once, in __init__.pyi (which type checkers and editors read too); each
# submodule is imported on first use, so `noticewatch run` does not load what only other commands need.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
