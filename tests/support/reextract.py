"""A one-source fetch history recorded by the real `record_fetch`, for the reextract tests: pages made
of a few variant paragraphs, list items and dates, and the history's rows as comparable tuples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from monitor.archive.blobs import Archive
from monitor.config.settings import LoadedConfig, load_config
from monitor.core import FetchResult
from monitor.store.db import open_db
from monitor.store.models import Change, Fetch, Version
from monitor.store.record import record_fetch, sync_sources

PARAGRAPHS = (
    "Wij verwerken uw persoonsgegevens uitsluitend voor de uitvoering van de overeenkomst met u en "
    "bewaren ze niet langer dan nodig is voor de doelen waarvoor ze zijn verzameld.",
    "Wij verwerken uw persoonsgegevens uitsluitend voor de uitvoering van de overeenkomst met u en "
    "bewaren ze ten hoogste zeven jaar na het einde van de overeenkomst.",
    "Wij verwerken uw persoonsgegevens ook voor marketing door derden buiten de Europese Unie.",
)
ITEMS = ("Naam en adres", "Naam, adres en telefoonnummer", "E-mailadres en IP-adres")
DATES = ("22-12-2020", "05-01-2021")
START = datetime(2026, 3, 1, 6, tzinfo=UTC)


def page(paragraph: int, item: int, date: int, seq: int = 0) -> bytes:
    """A notice of variant texts; `seq` changes its bytes (a script's counter), never its text."""
    return (f"<html lang='nl'><head><script>var seq = {seq};</script></head><body><main><h1>Privacyverklaring</h1>"
            f"<p>{PARAGRAPHS[paragraph]}</p>"
            f"<h2>Welke gegevens</h2><ul><li>{ITEMS[item]}</li><li>Klantnummer</li></ul>"
            f"<h2>Rechten</h2><p>U kunt uw gegevens inzien, laten corrigeren of laten verwijderen door "
            f"een e-mail te sturen naar privacy@example.org.</p>"
            f"<p>Deze privacyverklaring is voor het laatst gewijzigd op {DATES[date]}.</p>"
            f"</main></body></html>").encode()


def loaded_config(directory: Path, database: str, remove: str) -> LoadedConfig:
    """One source `n` on `database`, snapshots beside the file, with the `remove` selectors (TOML list)."""
    path = directory / f"noticewatch-{abs(hash(remove))}.toml"
    path.write_text(f'[storage]\ndatabase = "{database}"\nsnapshots = "snapshots"\n\n'
                    f'[[source]]\nid = "n"\nname = "N"\nurl = "http://127.0.0.1:9/privacy"\nlanguage = "nl"\n'
                    f"remove = {remove}\n", "utf-8")
    return load_config(path)


def record_all(loaded: LoadedConfig, bodies: list[bytes], times: Sequence[datetime] | None = None) -> None:
    """Archive and record each body as a fetch of source `n` (a day apart unless `times` are given)."""
    engine = open_db(loaded.database_url)
    sync_sources(engine, loaded)
    archive = Archive(loaded.snapshots_dir)
    for n, body in enumerate(bodies):
        stored = archive.put(body)
        when = times[n] if times is not None else START + timedelta(days=n)
        item = FetchResult(source_id="n", url="http://127.0.0.1:9/privacy", fetched_at=when,
                           final_url="http://127.0.0.1:9/privacy", status=200, body=body,
                           headers={"Content-Type": "text/html; charset=utf-8"}, archived=stored)
        record_fetch(engine, item, loaded.sources[0])
    engine.dispose()


def history(loaded: LoadedConfig) -> tuple[list, list, list]:
    """Versions, changes (by the numbers and texts they join) and fetches, as tuples to compare."""
    engine = open_db(loaded.database_url)
    with Session(engine) as session:
        versions = session.exec(select(Version).order_by(Version.number)).all()
        by_id = {v.id: v for v in versions}
        changes = session.exec(select(Change).order_by(Change.id)).all()
        fetches = [(f.id, f.outcome, f.blob_sha256) for f in session.exec(select(Fetch).order_by(Fetch.id))]
    engine.dispose()
    version_rows = [(v.id, v.number, v.text_sha256, v.document_json, v.notice_date_json) for v in versions]
    change_rows = sorted((by_id[c.old_version_id].number, by_id[c.new_version_id].number,
                          by_id[c.old_version_id].text_sha256, by_id[c.new_version_id].text_sha256, c.id,
                          c.diff_json, c.flags_json, c.counts_json, c.significance, c.cosmetic_only)
                         for c in changes)
    return version_rows, change_rows, fetches
