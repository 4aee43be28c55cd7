"""Issue 13, point 5: persistent is real. A held-back text that keeps coming back becomes the
version (flagged); a page flipping between two texts is shown as alternating, not re-reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from monitor.config import SourceConfig
from monitor.core import FetchResult
from monitor.devtools.site import SEED_NAMES, NoticeSite, SitePage, seed_text
from monitor.extract import extract_document
from monitor.store import list_changes, record_fetch
from monitor.store.db import open_db
from monitor.store.models import Change, Source, Version
from monitor.web import create_app
from tests.support import run_cli


def _config(site: NoticeSite, tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "noticewatch.toml"
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                    "[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\nconfirm_delay = 0.1\n\n"
                    f'[[source]]\nid = "ingram"\nname = "Ingram"\nurl = "{site.url_for("ingram")}"\n',
                    encoding="utf-8")
    return path


def _run(config: Path) -> dict:
    result = run_cli(config, "run", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_shorter_text_held_back_as_suspicious_becomes_the_version_when_it_persists(tmp_path, db_url):
    text = seed_text("ingram-micro")
    page = SitePage(SEED_NAMES["ingram-micro"], text)
    with NoticeSite(pages={"ingram": page}, validators=False) as site:
        config = _config(site, tmp_path, db_url)
        assert _run(config)["new"] == 1
        page.text = text[: len(text) // 3]  # the new, much shorter policy
        first = _run(config)
        assert "lost 67%" in first["suspicious"]["ingram"] and not first["changed"]  # held back, fetched twice
        second = _run(config)  # the same text on the 3rd and 4th fetch, in a 2nd cycle: it is real
        assert second["changed"] == 1, second
        changes = json.loads(run_cli(config, "changes", "--json").stdout)["changes"]
        [change] = changes
        assert change["persisted"]["flag"] == "shortened" and change["persisted"]["cycles"] == 2
        assert change["persisted"]["fetches"] >= 3 and "lost" in change["persisted"]["reason"]
        third = _run(config)
        assert third["unchanged"] == 1 and not third["suspicious"]  # the short text is the version now


def _item(source_id: str, body: str, when: datetime, cycle: str) -> FetchResult:
    return FetchResult(source_id=source_id, url="https://example.org/privacy", fetched_at=when, status=200,
                     headers={"Content-Type": "text/html; charset=utf-8"}, body=body.encode(), cycle_id=cycle)


def _page(*paragraphs: str) -> str:
    return "<html lang='en'><body><main><h1>Privacy</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs) + \
        "</main></body></html>"


BASE = [f"Clause {n}: we process personal data for purpose number {n} and keep it safe for years." for n in range(8)]


def test_an_alternating_page_is_shown_as_alternating_and_not_re_reported_until_a_third_text(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'db.sqlite'}")
    source = SourceConfig(id="s", name="S", url="https://example.org/privacy")
    with Session(engine) as session:
        session.add(Source(id="s", name="S"))
        session.commit()
    a = _page(*BASE)
    b = _page(*BASE[:4], "We also share data with our partner networks for advertising.", *BASE[4:])
    c = _page(*BASE, "A new clause on retention: we delete inactive accounts after two years.")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    outcomes = []
    for n, body in enumerate([a, b, a, b, a, b, c]):
        result = record_fetch(engine, _item("s", body, start + timedelta(days=n), f"cycle{n}"), source)
        outcomes.append(result.outcome)
        if n == 3:
            client = TestClient(create_app(engine))
            notice = client.get("/api/notices/s").json()
            assert notice["alternating"]["versions"] == [2, 3]
            assert "alternating" in client.get("/notices/s").text
    # A → B reported, B → A (a real revert) reported, then the flips are alternation; C is new.
    assert outcomes == ["first", "changed", "changed", "unchanged", "unchanged", "unchanged", "changed"]
    with Session(engine) as session:
        assert len(session.exec(select(Version)).all()) == 4
        assert len(session.exec(select(Change)).all()) == 3
        assert [c["new_version"] for c in list_changes(session)] == [2, 3, 4]
        notice = TestClient(create_app(engine)).get("/api/notices/s").json()
        assert notice["alternating"] is None  # a third text ended it
    engine.dispose()


def test_a_revert_to_an_older_text_is_still_a_change(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'db.sqlite'}")
    source = SourceConfig(id="s", name="S", url="https://example.org/privacy")
    with Session(engine) as session:
        session.add(Source(id="s", name="S"))
        session.commit()
    a, b = _page(*BASE), _page(*BASE[:-1])
    start = datetime(2026, 11, 1, tzinfo=UTC)
    outcomes = [record_fetch(engine, _item("s", body, start + timedelta(days=n), f"c{n}"), source).outcome
                for n, body in enumerate([a, b, a])]
    assert outcomes == ["first", "changed", "changed"]
    engine.dispose()


def _suspicious(source_id: str, body: str, when: datetime, cycle: str, reason: str, fetches: int = 1) -> FetchResult:
    item = _item(source_id, body, when, cycle)
    item.document = extract_document(item.body, "text/html", url=item.url)
    item.suspicious, item.held_fetches = reason, fetches
    return item


def test_a_persistent_wall_replaces_the_notice_flagged_and_a_good_fetch_between_resets_the_count(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'db.sqlite'}")
    source = SourceConfig(id="s", name="S", url="https://example.org/privacy")
    with Session(engine) as session:
        session.add(Source(id="s", name="S"))
        session.commit()
    good, wall = _page(*BASE), _page("Please verify you are human to continue to this site.")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    reason = "bot or captcha wall (again after a re-fetch)"
    steps = [record_fetch(engine, _item("s", good, start, "c0"), source).outcome,
             record_fetch(engine, _suspicious("s", wall, start + timedelta(days=1), "c1", reason, 2), source).outcome,
             record_fetch(engine, _item("s", good, start + timedelta(days=2), "c2"), source).outcome,
             record_fetch(engine, _suspicious("s", wall, start + timedelta(days=3), "c3", reason), source).outcome,
             record_fetch(engine, _suspicious("s", wall, start + timedelta(days=3), "c3", reason), source).outcome,
             record_fetch(engine, _suspicious("s", wall, start + timedelta(days=4), "c4", reason), source).outcome]
    # the good fetch in c2 ends the first run; c3 + c3 + c4 are 3 fetches over 2 cycles
    assert steps == ["first", "suspicious", "unchanged", "suspicious", "suspicious", "changed"]
    with Session(engine) as session:
        [change] = list_changes(session)
    assert change["persisted"] == {"flag": "replaced", "reason": reason, "fetches": 3, "cycles": 2}
    engine.dispose()
