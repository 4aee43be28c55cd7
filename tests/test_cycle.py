"""End to end: the real `notices` spider, run as `noticewatch run`, against a local seed site."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from monitor.archive.blobs import Archive
from monitor.config.settings import load_config
from monitor.store.db import open_db
from monitor.store.models import Change, Fetch, Version
from tests.support import run_cli


def _state(config: Path):
    loaded = load_config(config)
    engine = open_db(loaded.database_url)
    return loaded, engine


def _run(config: Path, *args: str) -> dict:
    result = run_cli(config, "run", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_first_cycle_records_five_versions_and_archives_raw_bodies(site, config_path):
    summary = _run(config_path)
    assert summary["sources"] == 5 and summary["new"] == 5 and summary["failed"] == {}
    loaded, engine = _state(config_path)
    with Session(engine) as session:
        versions = session.exec(select(Version)).all()
        fetches = session.exec(select(Fetch)).all()
    assert sorted(v.source_id for v in versions) == sorted(site.pages)
    assert all(v.number == 1 for v in versions)
    archive = Archive(loaded.snapshots_dir)
    for fetch in fetches:
        assert fetch.status == 200 and fetch.final_url == fetch.url
        assert archive.get(fetch.blob_sha256) == site.pages[fetch.source_id].body()
    ismt = next(v for v in versions if v.source_id == "ismt")
    assert "PRIVACYVERKLARING ISMT B.V." in ismt.markdown
    assert "cookies om uw ervaring" not in ismt.markdown  # the cookie banner is chrome
    assert "Algemene voorwaarden" not in ismt.markdown  # so is the footer


def test_unchanged_recrawl_gives_no_change_and_no_new_blob(site, config_path):
    _run(config_path)
    loaded, _engine = _state(config_path)
    blobs_before = Archive(loaded.snapshots_dir).blob_count()
    summary = _run(config_path)
    assert summary["unchanged"] == 5 and summary["changed"] == 0 and summary["new"] == 0
    assert Archive(loaded.snapshots_dir).blob_count() == blobs_before
    _loaded, engine = _state(config_path)
    with Session(engine) as session:
        assert session.exec(select(Change)).all() == []
        assert len(session.exec(select(Version)).all()) == 5
        second = session.exec(select(Fetch).order_by(Fetch.id.desc())).first()
    # the site supports ETag, so the re-crawl was a conditional request answered 304
    assert second.outcome == "not_modified" and second.status == 304
    assert any(h.get("If-None-Match") for _m, p, h in site.requests if p.startswith("/privacy/"))


def test_edited_paragraph_gives_exactly_one_change_naming_it(site, config_path):
    _run(config_path)
    old = "In het algemeen gebruiken we persoonlijke gegevens om onze producten en diensten te leveren"
    assert old in site.pages["partners4it"].text
    site.edit("partners4it", old, "In het algemeen verkopen we persoonlijke gegevens om onze producten te leveren")
    summary = _run(config_path)
    assert summary["changed"] == 1 and summary["unchanged"] == 4
    result = run_cli(config_path, "changes", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"].startswith("noticewatch.changes/")
    [change] = data["changes"]
    assert change["source"] == "partners4it"
    assert (change["old_version"], change["new_version"]) == (1, 2)
    reported = [c for c in change["clauses"] if c["kind"] != "cosmetic"]
    assert len(reported) == 1
    clause = reported[0]
    assert clause["kind"] == "modified"
    assert "verkopen we persoonlijke gegevens" in clause["new_text"]
    assert old in clause["old_text"]
    assert clause["heading_path"][-1] == "Hoe we uw persoonlijke gegevens gebruiken"


def test_server_error_is_a_failed_fetch_and_others_complete(site, config_path):
    _run(config_path)
    site.pages["cetit"].status = 500
    summary = _run(config_path)
    assert list(summary["failed"]) == ["cetit"]
    assert "500" in summary["failed"]["cetit"]
    assert summary["fetched"] == 4
    _loaded, engine = _state(config_path)
    with Session(engine) as session:
        assert session.exec(select(Change)).all() == []
        cetit = session.exec(select(Version).where(Version.source_id == "cetit")).all()
    assert len(cetit) == 1
    # retried (retries = 1 in the test config) before giving up
    assert site.hits("/privacy/cetit") >= 3


def test_text_summary_names_failing_sources(site, config_path, tmp_path):
    site.pages["ismt"].status = 503
    result = run_cli(config_path, "run")
    assert result.returncode == 0, result.stderr
    assert "5 sources, 4 fetched" in result.stdout
    assert "failed ismt: HTTP 503" in result.stdout
