"""Helpers of the digest tests: history from real seed edits.

The history goes through the real pipeline minus HTTP: seed text → notice page HTML (as the demo
site serves it) → extract → `new_version` (diff, change row). The SMTP server is in tests/support/smtp.py.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from monitor.devtools.site import SEED_NAMES, notice_html_body, page_html, seed_text
from monitor.extract import text_sha256
from monitor.extract.html import extract_document
from monitor.store.db import session_scope
from monitor.store.models import Fetch, Source
from monitor.store.record import current_version, new_version

# Real edits of the seed notices: (source, old text, new text). Material wording changes.
SEED_EDITS = [
    ("partners4it", "We bewaren uw persoonlijke gegevens zo lang als nodig is",
     "We bewaren uw persoonlijke gegevens, ook in de Verenigde Staten, zo lang als nodig is"),
    ("ismt", "Wij bewaren je gegevens niet langer dan noodzakelijk is",
     "Wij bewaren je gegevens maximaal zeven jaar en niet langer dan noodzakelijk is"),
    ("ismt", "waarvoor de gegevens verzameld zijn.",
     "waarvoor de gegevens verzameld zijn.\n\nWij kunnen je gegevens doorgeven aan partijen buiten de "
     "Europese Economische Ruimte, ook zonder passende waarborgen."),
    ("cetit", "We bewaren uw informatie voor mogelijke toekomstige contacten met u.",
     "We bewaren uw informatie voor mogelijke toekomstige contacten met u en delen deze met onze "
     "marketingpartners."),
]


def add_source(engine, source_id: str, name: str | None = None, url: str | None = None) -> None:
    with session_scope(engine) as session:
        if session.get(Source, source_id) is None:
            session.add(Source(id=source_id, name=name or SEED_NAMES.get(source_id, source_id),
                               url=url or f"https://{source_id}.example/privacy"))


def record_text(engine, source_id: str, text: str, when: dt.datetime) -> int | None:
    """Record `text` as the next version of a source, as the pipeline would; the change id if any."""
    add_source(engine, source_id)
    html = page_html(SEED_NAMES.get(source_id, source_id), notice_html_body(text))
    document = extract_document(html.encode("utf-8"), "text/html; charset=utf-8")
    with session_scope(engine) as session:
        fetch = Fetch(source_id=source_id, url=f"https://{source_id}.example/privacy", status=200,
                      outcome="changed", fetched_at=when)
        session.add(fetch)
        session.flush()
        previous = current_version(session.connection(), source_id, texts=True)
        if previous is not None and previous.text_sha256 == text_sha256(document):
            return None
        _version, change = new_version(session, source_id, document, fetch, None, previous)
        return change.id if change else None


def seed_history(engine, when: dt.datetime, edits=SEED_EDITS) -> list[int]:
    """First versions of the edited seeds at `when`, then their edited versions a minute later."""
    texts = {}
    for source_id, _old, _new in edits:
        texts.setdefault(source_id, seed_text(source_id))
    for source_id, text in texts.items():
        record_text(engine, source_id, text, when)
    for source_id, old, new in edits:
        assert old in texts[source_id], (source_id, old)
        texts[source_id] = texts[source_id].replace(old, new, 1)
    return [cid for source_id, text in texts.items()
            if (cid := record_text(engine, source_id, text, when + dt.timedelta(minutes=1))) is not None]


def record_failures(engine, source_id: str, count: int, when: dt.datetime, error: str = "HTTP 503") -> None:
    add_source(engine, source_id)
    with session_scope(engine) as session:
        for i in range(count):
            session.add(Fetch(source_id=source_id, url=f"https://{source_id}.example/privacy", status=503,
                              outcome="failed", error=error, fetched_at=when + dt.timedelta(hours=i)))


def change_count(engine) -> int:
    from sqlmodel import func, select

    from monitor.store.models import Change

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Change)).one()
