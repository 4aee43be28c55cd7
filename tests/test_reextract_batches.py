"""`reextract` streams a source's history: fetch rows are read in pages of a bounded size (never the
whole history at once), in fetch order even where fetches share a time, and the rebuilt history is
the same whatever the page size and however many worker processes derive the bodies."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session

from monitor.store.db import open_db
from monitor.store.reextract import fetch_batches, reextract
from tests.support.reextract import START, history, loaded_config, page, record_all

# Eleven fetches: the bytes of each differ, texts return (A B A B pattern included), two share a time.
VARIANTS = [(0, 0, 0), (0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 0, 0), (1, 1, 0), (2, 1, 1), (2, 1, 1), (0, 2, 1),
            (0, 2, 1), (1, 0, 1)]
TIMES = [START + timedelta(days=3 if n == 4 else n) for n in range(len(VARIANTS))]  # fetches 3 and 4: one time


def _recorded(directory: Path, database: str, *, same_bytes: bool = False) -> None:
    """The history of VARIANTS; with `same_bytes` a returning text is the same body (the same blob) again,
    and the first body returns once more at the end, after five others."""
    if same_bytes:
        bodies = [page(*v) for v in [*VARIANTS, VARIANTS[0]]]
        times = [*TIMES, START + timedelta(days=len(VARIANTS))]
    else:
        bodies, times = [page(*v, seq=n) for n, v in enumerate(VARIANTS)], TIMES
    record_all(loaded_config(directory, database, "[]"), bodies, times)


def _fetch_reads(engine) -> list[str]:
    """Every statement that reads fetch rows for reextract (captured on the real connection)."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM fetch" in statement and "blob_sha256" in statement:
            seen.append(statement)

    return seen


def test_fetch_rows_are_read_in_pages_in_fetch_order(tmp_path):
    _recorded(tmp_path, "sqlite:///paged.db")
    loaded = loaded_config(tmp_path, "sqlite:///paged.db", '["ul"]')
    engine = open_db(loaded.database_url)
    reads = _fetch_reads(engine)
    with Session(engine) as session:
        pages = list(fetch_batches(session, "n", size=4))
    assert [len(p) for p in pages] == [4, 4, 3]
    assert len(reads) == 3 and all("LIMIT" in statement.upper() for statement in reads)
    rows = [row for p in pages for row in p]
    assert [(row.fetched_at, row.id) for row in rows] == sorted((row.fetched_at, row.id) for row in rows)
    assert len({row.id for row in rows}) == len(VARIANTS)

    reads.clear()
    [report] = reextract(engine, loaded, batch=4)
    assert report.error is None and len(reads) == 3  # the rebuild read the history page by page too
    engine.dispose()


@pytest.mark.parametrize("batch, workers", [(3, 1), (3, 2), (500, 2)], ids=["pages-of-3-here", "pages-of-3-pool",
                                                                            "one-page-pool"])
def test_rebuild_is_the_same_for_any_page_size_and_worker_count(tmp_path, batch, workers):
    _recorded(tmp_path, "sqlite:///reference.db")
    _recorded(tmp_path, "sqlite:///rebuilt.db")
    reference = loaded_config(tmp_path, "sqlite:///reference.db", '["ul"]')
    rebuilt = loaded_config(tmp_path, "sqlite:///rebuilt.db", '["ul"]')
    engine = open_db(reference.database_url)
    [expected] = reextract(engine, reference, workers=1, batch=10_000)
    engine.dispose()
    engine = open_db(rebuilt.database_url)
    [report] = reextract(engine, rebuilt, workers=workers, batch=batch)
    engine.dispose()
    assert report.to_dict() == expected.to_dict()
    ids_aside = [[row[1:] for row in rows] for rows in history(reference)[:2]]
    assert [[row[1:] for row in rows] for rows in history(rebuilt)[:2]] == ids_aside


def test_a_recurring_body_forgotten_meanwhile_is_derived_again_the_same(tmp_path, monkeypatch):
    _recorded(tmp_path, "sqlite:///reference.db", same_bytes=True)
    _recorded(tmp_path, "sqlite:///rebuilt.db", same_bytes=True)
    reference = loaded_config(tmp_path, "sqlite:///reference.db", '["ul"]')
    rebuilt = loaded_config(tmp_path, "sqlite:///rebuilt.db", '["ul"]')
    engine = open_db(reference.database_url)
    [expected] = reextract(engine, reference, workers=1)
    engine.dispose()
    module = importlib.import_module("monitor.store.reextract")  # the package's `reextract` is the function
    monkeypatch.setattr(module, "KNOWN_BODIES", 1)  # remember 4 bodies (pages of 1)
    engine = open_db(rebuilt.database_url)
    [report] = reextract(engine, rebuilt, workers=1, batch=1)
    engine.dispose()
    assert report.to_dict() == expected.to_dict()
    assert [[row[1:] for row in rows] for rows in history(rebuilt)[:2]] == \
        [[row[1:] for row in rows] for rows in history(reference)[:2]]


def test_rebuild_on_each_backend_pages_through_shared_times(db_url, tmp_path):
    _recorded(tmp_path, db_url)
    loaded = loaded_config(tmp_path, db_url, '["ul"]')
    engine = open_db(loaded.database_url)
    [whole] = reextract(engine, loaded, dry_run=True, batch=10_000)
    [paged] = reextract(engine, loaded, batch=2)  # a page ends between the two fetches of one time
    engine.dispose()
    assert paged.to_dict() == whole.to_dict() and paged.versions_after != paged.versions_before
