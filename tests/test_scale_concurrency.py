"""Concurrent writers on the real PostgreSQL: versions, blobs, per-cycle claims; the advisory-lock leader."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from crawler.fleet import claim_in_db
from monitor.config.settings import parse_config
from monitor.core import ArchivedBody, FetchResult
from monitor.devtools.site import SEED_NAMES, notice_html_body, page_html, seed_text
from monitor.store.db import open_db, session_scope
from monitor.store.fleet_tables import CrawlCycle, CycleItem
from monitor.store.leader import Leadership
from monitor.store.models import Blob, Fetch, Version
from monitor.store.record import AlreadyRecorded, record_fetch, sync_sources
from tests.support import fresh_postgres

CONFIG = """
[[source]]
id = "ismt"
name = "ISMT B.V."
url = "http://127.0.0.1:9/privacy/ismt"
"""


@pytest.fixture
def engine():
    with fresh_postgres() as url:
        engine = open_db(url)
        loaded = parse_config(CONFIG)

        class Loaded:
            sources = loaded.source

        sync_sources(engine, Loaded)
        yield engine
        engine.dispose()


def _body(variant: int) -> bytes:
    text = seed_text("ismt") + f"\n\nDeze versie van de verklaring draagt volgnummer {variant}.\n"
    return page_html(SEED_NAMES["ismt"], notice_html_body(text)).encode()


def _item(body: bytes, cycle_id: str | None = None) -> FetchResult:
    import hashlib

    return FetchResult(source_id="ismt", url="http://127.0.0.1:9/privacy/ismt", fetched_at=datetime.now(UTC),
                     status=200, headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                       archived=ArchivedBody(hashlib.sha256(body).hexdigest(), len(body), len(body), created=True),
                       cycle_id=cycle_id)


def _race(count: int, work) -> list:
    """Run `work(i)` in `count` threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_new_versions_are_numbered_without_gaps_or_duplicates(engine):
    source = parse_config(CONFIG).source[0]
    bodies = [_body(i) for i in range(8)]
    results = _race(8, lambda i: record_fetch(engine, _item(bodies[i]), source))
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(engine) as session:
        numbers = sorted(session.exec(select(Version.number).where(Version.source_id == "ismt")).all())
        fetches = session.exec(select(Fetch)).all()
    assert numbers == list(range(1, 9))
    assert len(fetches) == 8


def test_same_body_from_many_workers_is_one_blob(engine):
    source = parse_config(CONFIG).source[0]
    body = _body(0)
    results = _race(6, lambda _i: record_fetch(engine, _item(body), source))
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(engine) as session:
        assert len(session.exec(select(Blob)).all()) == 1
        assert len(session.exec(select(Version)).all()) == 1
        assert sorted(f.outcome for f in session.exec(select(Fetch))) == ["first"] + ["unchanged"] * 5


def test_one_cycle_item_is_recorded_once_however_many_workers_race(engine):
    source = parse_config(CONFIG).source[0]
    with session_scope(engine) as session:
        session.add(CrawlCycle(id="c1", sources=1))
        session.flush()
        session.add(CycleItem(cycle_id="c1", source_id="ismt"))
    bodies = [_body(i) for i in range(5)]
    results = _race(5, lambda i: record_fetch(engine, _item(bodies[i], "c1"), source,
                                              cycle_id="c1", claim=claim_in_db("c1", "ismt", f"w{i}")))
    assert sum(isinstance(r, AlreadyRecorded) for r in results) == 4
    assert [r for r in results if not isinstance(r, Exception)][0].outcome == "first"
    with Session(engine) as session:
        assert len(session.exec(select(Fetch).where(Fetch.cycle_id == "c1")).all()) == 1
        assert len(session.exec(select(Version)).all()) == 1
        assert session.get(CycleItem, ("c1", "ismt")).done_at is not None


def test_one_leader_at_a_time(engine):
    first, second = Leadership(engine, "daemon"), Leadership(engine, "daemon")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.try_acquire() and first.still_held()
    first.release()
    assert second.try_acquire()
    second.release()


def test_sqlite_has_one_machine_so_one_leader(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'nw.db'}")
    assert Leadership(engine, "daemon").try_acquire()
