"""Properties of `reextract` over any fetch history: rebuilding equals recording from scratch with the
new settings, a second rebuild changes nothing, and changes whose text pair survives keep their ids."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from monitor.archive.blobs import Archive
from monitor.config.settings import LoadedConfig, load_config
from monitor.core import FetchResult
from monitor.store.db import open_db
from monitor.store.models import Change, Fetch, Version
from monitor.store.record import record_fetch, sync_sources
from monitor.store.reextract import match_versions, reextract
from monitor.store.standing import SourceStatus

PARAGRAPHS = (
    "Wij verwerken uw persoonsgegevens uitsluitend voor de uitvoering van de overeenkomst met u en "
    "bewaren ze niet langer dan nodig is voor de doelen waarvoor ze zijn verzameld.",
    "Wij verwerken uw persoonsgegevens uitsluitend voor de uitvoering van de overeenkomst met u en "
    "bewaren ze ten hoogste zeven jaar na het einde van de overeenkomst.",
    "Wij verwerken uw persoonsgegevens ook voor marketing door derden buiten de Europese Unie.",
)
ITEMS = ("Naam en adres", "Naam, adres en telefoonnummer", "E-mailadres en IP-adres")
DATES = ("22-12-2020", "05-01-2021")


def page(paragraph: int, item: int, date: int) -> bytes:
    return (f"<html lang='nl'><body><main><h1>Privacyverklaring</h1><p>{PARAGRAPHS[paragraph]}</p>"
            f"<h2>Welke gegevens</h2><ul><li>{ITEMS[item]}</li><li>Klantnummer</li></ul>"
            f"<h2>Rechten</h2><p>U kunt uw gegevens inzien, laten corrigeren of laten verwijderen door "
            f"een e-mail te sturen naar privacy@example.org.</p>"
            f"<p>Deze privacyverklaring is voor het laatst gewijzigd op {DATES[date]}.</p>"
            f"</main></body></html>").encode()


def _loaded(directory: Path, database: str, remove: str) -> LoadedConfig:
    path = directory / f"noticewatch-{abs(hash(remove))}.toml"
    path.write_text(f'[storage]\ndatabase = "{database}"\nsnapshots = "snapshots"\n\n'
                    f'[[source]]\nid = "n"\nname = "N"\nurl = "http://127.0.0.1:9/privacy"\nlanguage = "nl"\n'
                    f"remove = {remove}\n", "utf-8")
    return load_config(path)


def _record_all(loaded: LoadedConfig, bodies: list[bytes]) -> None:
    engine = open_db(loaded.database_url)
    sync_sources(engine, loaded)
    archive = Archive(loaded.snapshots_dir)
    start = datetime(2026, 3, 1, 6, tzinfo=UTC)
    for n, body in enumerate(bodies):
        stored = archive.put(body)
        item = FetchResult(source_id="n", url="http://127.0.0.1:9/privacy", fetched_at=start + timedelta(days=n),
                         final_url="http://127.0.0.1:9/privacy", status=200, body=body,
                         headers={"Content-Type": "text/html; charset=utf-8"}, archived=stored)
        record_fetch(engine, item, loaded.sources[0])
    engine.dispose()


def _history(loaded: LoadedConfig) -> tuple[list, list, list]:
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


def _alternating(loaded: LoadedConfig) -> str | None:
    engine = open_db(loaded.database_url)
    with Session(engine) as session:
        row = session.get(SourceStatus, "n")
        alternating = row.alternating_json if row else None
    engine.dispose()
    return alternating


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=7),
       st.sampled_from(['["ul"]', '["h2"]', "[]"]))
@example([(0, 0, 0), (1, 0, 0), (0, 0, 0), (1, 0, 0), (0, 0, 0), (2, 0, 0), (1, 0, 0)], "[]")  # alternates, then ends
@example([(0, 0, 0), (0, 1, 0), (0, 0, 0), (0, 1, 0)], '["ul"]')  # alternates only in what the new rules remove
def test_reextract_equals_recording_from_scratch(variants, new_remove):
    # Histories that return to earlier texts included: recording recognises a page alternating between two
    # texts (A, B, A, B is not re-reported) and reextract replays that rule.
    bodies = [page(*v) for v in variants]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        before = _loaded(directory, "sqlite:///rebuilt.db", "[]")
        _record_all(before, bodies)
        old_versions, old_changes, fetches = _history(before)

        after = _loaded(directory, "sqlite:///rebuilt.db", new_remove)
        engine = open_db(after.database_url)
        [report] = reextract(engine, after)
        engine.dispose()
        versions, changes, fetches_after = _history(after)
        assert fetches_after == fetches and report.error is None

        fresh = _loaded(directory, "sqlite:///fresh.db", new_remove)
        _record_all(fresh, bodies)
        fresh_versions, fresh_changes, _ = _history(fresh)
        # The same history as recording every fetch again with the new settings (ids aside).
        assert [v[1:] for v in versions] == [v[1:] for v in fresh_versions]
        assert [c[:4] + c[5:] for c in changes] == [c[:4] + c[5:] for c in fresh_changes]
        assert report.versions_after == [v[2] for v in versions]
        assert _alternating(after) == _alternating(fresh)  # what the notice page shows as alternating
        # A change whose (old text, new text) pair survived kept its id.
        old_ids = {c[2:4]: c[4] for c in old_changes}
        for change in changes:
            if change[2:4] in old_ids and sum(c[2:4] == change[2:4] for c in old_changes) == 1:
                assert change[4] == old_ids[change[2:4]]
        # Versions whose text stood at the same number before kept their row.
        old_at = {v[1]: v for v in old_versions}
        assert all(v[0] == old_at[v[1]][0] for v in versions if v[1] in old_at and old_at[v[1]][2] == v[2])

        engine = open_db(after.database_url)
        [again] = reextract(engine, after)
        engine.dispose()
        assert not again.differs and _history(after)[:2] == (versions, changes)


@given(st.lists(st.sampled_from("ABCD"), max_size=12), st.lists(st.sampled_from("ABCD"), max_size=12))
def test_version_matching_keeps_order_and_same_numbers(before, after):
    pairs = match_versions(before, after)
    assert all(before[i] == after[j] for i, j in pairs)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(pairs, pairs[1:], strict=False))
    same = {(k, k) for k in range(min(len(before), len(after))) if before[k] == after[k]}
    assert same <= set(pairs)
    if before == after:
        assert pairs == [(k, k) for k in range(len(before))]
