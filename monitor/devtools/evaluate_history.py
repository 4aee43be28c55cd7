"""Replay of a page's history over cycles for `noticewatch evaluate` (issue 13 point 5, kind "history").

Each cycle fetches the page as the spider does (crawler/spiders/notices.py `parse_notice`): a fetch
judged suspicious (monitor.extract.assess_fetch: lost text, a wall, an error page) is fetched once more
in the same cycle; a text that differs from the current version is confirmed by a second fetch. What
comes of it is recorded by the real `record_fetch` into a scratch SQLite database, so holding back,
persistence and alternation are the product's own rules, not copies of them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from monitor.archive import Archive
from monitor.config import load_config
from monitor.core import Document, FetchResult
from monitor.extract import FetchPolicy, assess_fetch, extract_document, text_sha256
from monitor.store import Change, FetchState, fetch_states, open_db, record_fetch, sync_sources

URL = "https://www.example.org/privacy"
CONTENT_TYPE = "text/html; charset=utf-8"


def replay_history(render: Callable[[str, int], bytes], cycles: list[str], language: str | None
                   ) -> list[tuple[int, list[str]]]:
    """Run the cycles (`render(variant, request)` gives a body); the cycles that reported a change, with
    the flags of each reported change (a persisted text's `shortened`/`replaced` among them)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = directory / "noticewatch.toml"
        config.write_text('[storage]\ndatabase = "sqlite:///history.db"\nsnapshots = "snapshots"\n\n'
                          f'[[source]]\nid = "n"\nname = "N"\nurl = "{URL}"\n'
                          + (f'language = "{language}"\n' if language else ""), encoding="utf-8")
        loaded = load_config(config)
        engine = open_db(loaded.database_url)
        sync_sources(engine, loaded)
        archive = Archive(loaded.snapshots_dir)
        start = datetime(2026, 6, 1, 6, tzinfo=UTC)
        reported: list[tuple[int, list[str]]] = []
        requests = iter(range(10_000))
        for number, variant in enumerate(cycles):
            with Session(engine) as session:
                state = fetch_states(session, ["n"]).get("n", FetchState())
            item = _cycle_fetch(lambda v=variant: render(v, next(requests)), state,
                                start + timedelta(days=number), f"cycle-{number}")
            if item.body is not None:
                item.archived = archive.put(item.body)
            result = record_fetch(engine, item, loaded.sources[0], cycle_id=item.cycle_id, archive=archive)
            if result.change_id is not None:
                with Session(engine) as session:
                    change = session.get(Change, result.change_id)
                    flags = [name for name, on in json.loads(change.flags_json or "{}").items() if on]
                    persisted = json.loads(change.context_json or "{}").get("persisted")
                    if persisted:
                        flags.append(persisted["flag"])
                reported.append((number, flags))
        engine.dispose()
        return reported


def _cycle_fetch(fetch: Callable[[], bytes], state: FetchState, when: datetime, cycle: str) -> FetchResult:
    """One cycle's fetch of the page, re-fetched as the spider would (recheck, confirmation)."""
    body = fetch()
    document, reason = _judge(body, state)
    if reason:
        again = fetch()
        second, reason_again = _judge(again, state)
        if reason_again:
            same = text_sha256(second) == text_sha256(document)
            return _item(again, second, when, cycle, suspicious=f"{reason_again} (again after a re-fetch)",
                         held_fetches=2 if same else 1)
        body, document = again, second
    if state.differs(document):
        confirmation = fetch()
        second, reason_again = _judge(confirmation, state)
        if not reason_again:
            return _item(confirmation, second, when, cycle, confirm_document=document)
    return _item(body, document, when, cycle)


def _judge(body: bytes, state: FetchState) -> tuple[Document, str | None]:
    document = extract_document(body, CONTENT_TYPE, url=URL)
    return document, assess_fetch(document, body, url=URL, final_url=URL, previous_chars=state.previous_chars,
                                  policy=FetchPolicy())


def _item(body: bytes, document: Document, when: datetime, cycle: str, **extra) -> FetchResult:
    return FetchResult(source_id="n", url=URL, final_url=URL, fetched_at=when, status=200, body=body,
                       headers={"Content-Type": CONTENT_TYPE}, document=document, cycle_id=cycle, **extra)
