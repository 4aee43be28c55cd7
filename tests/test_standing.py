"""One answer per source standing on every surface: `status`, the web overview, the notice page, the digest.

Real cycles of the real spider against the local site: an ordinary notice, a captcha wall, a
maintenance page, one 404, three 404s in a row (gone), a permanent redirect (moved) and a notice
never fetched (stale). Each surface must give the standing `source_standings` decides.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from monitor.archive import Archive
from monitor.config import load_config
from monitor.devtools import NoticeSite, SitePage, seed_text
from monitor.devtools.evaluate import DEFAULT_FIXTURES
from monitor.digest.send import digest_view
from monitor.store import open_db, source_standings
from monitor.web import WebSettings, create_app
from tests.support import run_cli

EXPECTED = {"ok": "ok", "captcha": "suspicious", "maintenance": "suspicious", "one404": "failing",
            "three404": "gone", "moved": "moved", "never": "stale"}
SUBSCRIPTION = """
[mail]
host = "127.0.0.1"
from = "noticewatch@example.org"

[[subscription]]
name = "team"
to = ["team@example.org"]
frequency = "immediate"
failing_after = 1
"""


def _wall(name: str) -> bytes:
    return (DEFAULT_FIXTURES / "suspicious" / name).read_bytes()


@pytest.fixture
def crawled(tmp_path, db_url):
    pages = {sid: SitePage(f"Company {sid}", seed_text("ismt")) for sid in EXPECTED}
    pages["moved-target"] = SitePage("Company moved", seed_text("ismt"))
    with NoticeSite(pages) as site:
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url, extra=SUBSCRIPTION)
        first = [s for s in EXPECTED if s != "never"]
        assert run_cli(config, "run", *[f"--source={s}" for s in first]).returncode == 0
        pages["captcha"].raw = _wall("captcha.html")
        pages["maintenance"].raw = _wall("maintenance.html")
        pages["one404"].status = pages["three404"].status = 404
        pages["moved"].status, pages["moved"].redirect = 301, site.url_for("moved-target")
        assert run_cli(config, "run", *[f"--source={s}" for s in first]).returncode == 0
        for _ in range(2):
            assert run_cli(config, "run", "--source=three404").returncode == 0
        yield config


def test_every_surface_gives_the_same_standing(crawled):
    loaded = load_config(crawled)
    engine = open_db(loaded.database_url)
    now = dt.datetime.now(dt.UTC)
    stale_after = dt.timedelta(seconds=loaded.config.schedule.stale_after)
    with Session(engine) as session:
        decided = {k: v.standing.value for k, v in source_standings(session, now, stale_after).items()
                   if k in EXPECTED}
    assert decided == EXPECTED

    status = run_cli(crawled, "status", "--json")
    cli = {row["source"]: row["standing"] for row in json.loads(status.stdout)["sources"] if row["source"] in EXPECTED}
    assert cli == EXPECTED
    text = run_cli(crawled, "status").stdout
    for source, standing in EXPECTED.items():
        assert any(line.split()[0] == source and line.split()[-1] == standing for line in text.splitlines()), \
            (source, text)

    client = TestClient(create_app(engine, WebSettings(archive=Archive(loaded.snapshots_dir), stale_after=stale_after)))
    overview = {row["source"]: row["status"] for row in client.get("/api/notices").json()["notices"]
                if row["source"] in EXPECTED}
    assert overview == EXPECTED
    for source, standing in EXPECTED.items():
        assert client.get(f"/api/notices/{source}").json()["status"] == standing
        assert f"status-{standing}" in client.get(f"/notices/{source}").text

    with Session(engine) as session:
        view = digest_view(session, loaded, loaded.config.subscription[0], now, now - dt.timedelta(days=1))
    listed = {f.source_id: f.state for f in view.failing}
    assert listed == {s: v for s, v in EXPECTED.items() if v in ("failing", "suspicious", "gone")}
    engine.dispose()
