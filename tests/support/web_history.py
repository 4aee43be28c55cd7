"""Build a real history for the web tests and benchmark: seed-derived pages recorded by the record step.

Each "cycle" takes the bytes the local NoticeSite would serve for every page, archives them
and records them with `record_fetch` (the same calls the spider's pipelines make), at a
controllable time, so a test gets versions, changes and fetch problems without running Scrapy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine

from monitor.archive.blobs import Archive
from monitor.config.settings import SourceConfig, load_config
from monitor.core import FetchResult
from monitor.devtools.site import NoticeSite
from monitor.store.db import open_db
from monitor.store.record import RecordResult, record_fetch, sync_sources


class History:
    """A NoticeSite's pages recorded into a database and archive, one cycle at a time."""

    def __init__(self, site: NoticeSite, db_url: str, snapshots: Path,
                 start: dt.datetime = dt.datetime(2026, 1, 5, 6, 0, tzinfo=dt.UTC)) -> None:
        self.site = site
        self.engine: Engine = open_db(db_url)
        self.archive = Archive(snapshots)
        self.now = start
        config = site.write_config(snapshots.parent / "noticewatch.toml", database=db_url,
                                   snapshots=str(snapshots))
        self.loaded = load_config(config)
        sync_sources(self.engine, self.loaded)
        self.sources = {s.id: s for s in self.loaded.sources}

    def add_source(self, source: SourceConfig) -> None:
        self.sources[source.id] = source

    def record(self, page_id: str, *, status: int = 200, error: str | None = None,
               final_url: str | None = None) -> RecordResult:
        page = self.site.pages[page_id]
        url = self.site.url_for(page_id)
        if status != 200 or error:
            item = FetchResult(source_id=page_id, url=url, fetched_at=self.now, status=status,
                             error=error or f"HTTP {status}")
        else:
            body = page.body()
            stored = self.archive.put(body)
            moved = final_url is not None and final_url != url  # as the spider reports a 301/308
            item = FetchResult(source_id=page_id, url=url, final_url=final_url or url, fetched_at=self.now, status=200,
                               headers={"Content-Type": page.content_type}, body=body, archived=stored,
                               moved_to=final_url if moved else None, moved_from=url if moved else None)
        return record_fetch(self.engine, item, self.sources[page_id], min_text_chars=200)

    def cycle(self, hours: float = 24) -> dict[str, RecordResult]:
        """Record every page once at the current time, then advance the clock."""
        results = {page_id: self.record(page_id) for page_id in self.site.pages}
        self.now += dt.timedelta(hours=hours)
        return results
