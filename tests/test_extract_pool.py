"""Issue 14: pages are extracted in worker processes under a time limit; a page that takes too long costs its
own source a failed fetch (its raw body still archived), never the cycle."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select

from monitor.config import load_config
from monitor.devtools import NoticeSite, SitePage, notice_html_body, page_html, seed_text
from monitor.store import Fetch, open_db
from monitor.store.models import Blob
from tests.support import run_cli


def _huge_page() -> bytes:
    """A real notice repeated to ~9 MB (under the 10 MB size cap): about a second of honest extraction."""
    notice = notice_html_body(seed_text("ingram-micro"))
    return page_html("Huge B.V.", notice * (9_000_000 // len(notice))).encode()


def test_a_page_over_the_time_limit_fails_alone_and_the_others_are_recorded(tmp_path, db_url):
    with NoticeSite() as site:
        site.pages["huge"] = SitePage("Huge B.V.", "", raw=_huge_page())
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
        config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\nextract_timeout = 0.3\n", 1))
        started = time.monotonic()
        result = run_cli(config, "run", "--json")
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["new"] == 5
    assert summary["failed"] == {"huge": "page took longer than 0.3 s to extract (worker stopped)"}
    assert elapsed < 60
    with Session(open_db(load_config(config).database_url)) as session:
        (fetch,) = session.exec(select(Fetch).where(Fetch.source_id == "huge")).all()
        assert fetch.outcome == "failed" and fetch.blob_sha256 is not None  # raw first: the body is archived
        assert session.get(Blob, fetch.blob_sha256) is not None
