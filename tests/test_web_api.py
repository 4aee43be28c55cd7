"""The web app's pages and JSON API through the framework's test client, on SQLite and PostgreSQL.

The history is real: seed-derived pages from the local NoticeSite, archived and recorded by the
record step, with edits between cycles and failed fetches, on a controllable clock.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from monitor.devtools.site import NoticeSite, SitePage, seed_text
from monitor.web import WebSettings, create_app
from monitor.web.security import Credentials, UnsafeBinding, credentials_for
from tests.support import run_cli
from tests.support.web_history import History

US_OLD = "We bewaren uw persoonlijke gegevens"
US_NEW = "We bewaren uw persoonlijke gegevens, ook in de Verenigde Staten,"
HOSTILE = "Klik nooit op <script>window.__pwned = 1</script> of <img src=x onerror=alert(1)> in een formulier."


@pytest.fixture
def history(db_url, tmp_path):
    """Five seed notices plus a hostile one; partners4it edited twice; failures and a redirect."""
    pages = {sid: SitePage(name, seed_text(sid)) for sid, name in
             {"partners4it": "Partners 4 IT BV", "ismt": "ISMT B.V.", "cetit": "CETIT bvba",
              "westcon-comstor": "Westcon-Comstor"}.items()}
    pages["hostile"] = SitePage("Hostile <b>Corp</b>", seed_text("cetit") + "\n\n" + HOSTILE + "\n")
    with NoticeSite(pages) as site:
        hist = History(site, db_url, tmp_path / "snapshots")
        hist.cycle()
        site.edit("partners4it", US_OLD, US_NEW)
        hist.record("partners4it")
        hist.now += dt.timedelta(hours=24)
        site.edit("partners4it", "binnen 30 dagen", "binnen 14 dagen")
        hist.record("partners4it")
        hist.record("ismt", status=503, error="HTTP 503 Service Unavailable")
        hist.record("cetit", status=404)
        hist.record("westcon-comstor", final_url=site.base_url + "/privacy/westcon-new")
        hist.record("hostile")
        hist.now += dt.timedelta(hours=1)
        yield hist
        hist.engine.dispose()


def client_for(hist: History, **settings) -> TestClient:
    return TestClient(create_app(hist.engine, WebSettings(archive=hist.archive, clock=lambda: hist.now, **settings)))


def test_overview_statuses_sorting_and_filters(history):
    client = client_for(history)
    rows = {r["source"]: r for r in client.get("/api/notices").json()["notices"]}
    assert {s: r["status"] for s, r in rows.items()} == {
        "partners4it": "ok", "ismt": "failing", "cetit": "failing", "westcon-comstor": "moved", "hostile": "ok"}
    assert rows["partners4it"]["versions"] == 3 and len(rows["partners4it"]["changes"]) == 2
    assert rows["partners4it"]["last_change_id"] == rows["partners4it"]["changes"][-1]["id"]
    by_versions = client.get("/api/notices", params={"sort": "versions", "order": "desc"}).json()["notices"]
    assert by_versions[0]["source"] == "partners4it"
    failing = client.get("/api/notices", params={"status": "failing"}).json()["notices"]
    assert sorted(r["source"] for r in failing) == ["cetit", "ismt"]  # one 404 is failing until gone_after
    assert [r["source"] for r in client.get("/api/notices", params={"q": "cetit"}).json()["notices"]] == ["cetit"]
    html = client.get("/", params={"sort": "status"}).text
    assert 'href="/notices/partners4it"' in html and "status-failing" in html and "status-moved" in html
    row = html[html.index('data-source="partners4it"'):]
    row = row[:row.index("</tr>")]
    assert f'href="/changes/{rows["partners4it"]["last_change_id"]}"' in row
    assert row.count("M") >= 2 and 'class="tick"' in row and "2 changes" in row  # sparkline: two ticks
    history.now += dt.timedelta(days=10)
    stale = client.get("/api/notices", params={"status": "stale"}).json()["notices"]
    # A notice whose last fetch failed stays failing/gone rather than stale.
    assert sorted(r["source"] for r in stale) == ["hostile", "partners4it", "westcon-comstor"]


def test_api_changes_match_changes_json(history, tmp_path, db_url):
    client = client_for(history)
    api = client.get("/api/changes").json()
    config = tmp_path / "noticewatch.toml"
    cli = run_cli(config, "changes", "--json")
    assert cli.returncode == 0, cli.stderr
    assert api == json.loads(cli.stdout)
    one = client.get(f"/api/changes/{api['changes'][0]['id']}").json()
    assert one == api["changes"][0]
    assert client.get("/api/changes", params={"source": "ismt"}).json()["changes"] == []


def test_notice_page_timeline_and_diff_between_any_two_versions(history):
    client = client_for(history)
    notice = client.get("/api/notices/partners4it").json()
    assert [v["number"] for v in notice["versions"]] == [1, 2, 3]
    assert [(c["old_version"], c["new_version"]) for c in notice["changes"]] == [(1, 2), (2, 3)]
    assert client.get("/api/notices/ismt").json()["problems"][0]["error"] == "HTTP 503 Service Unavailable"
    page = client.get("/notices/partners4it").text
    assert "<svg" in page and 'name="old"' in page and "Compare selected versions" in page

    picked = client.get("/notices/partners4it/diff", params={"old": 1, "new": 3}, follow_redirects=False)
    assert picked.status_code == 303 and picked.headers["location"] == "/notices/partners4it/diff/1..3"
    diff = client.get("/api/notices/partners4it/diff/1..3").json()
    assert diff["change_id"] is None and diff["total"] == 2
    segments = [s for c in diff["clauses"] for s in c["segments"]]
    assert ["ins", ", ook in de Verenigde Staten,"] in segments
    assert ["del", "30"] in segments and ["ins", "14"] in segments
    side = client.get("/notices/partners4it/diff/1..3").text
    assert "<ins>, ook in de Verenigde Staten,</ins>" in side and "<del>30</del>" in side
    inline = client.get("/notices/partners4it/diff/1..3", params={"view": "inline"}).text
    assert '<div class="inline">' in inline and "<ins>14</ins>" in inline

    assert notice["versions"][0]["date_statement"]["value"] == "2018-05-07"  # "Laatst gewijzigd: 7 Mei 2018"
    assert "silent_change" in diff["flags"]  # text changed, the notice's date did not
    assert diff["tags"] and diff["significances"]
    for tag in diff["tags"]:
        tagged = client.get("/api/notices/partners4it/diff/1..3", params={"tag": tag}).json()
        assert tagged["clauses"] and all(tag in c["tags"] for c in tagged["clauses"])
    for level in diff["significances"]:
        shown = client.get("/api/notices/partners4it/diff/1..3", params={"significance": level}).json()["clauses"]
        assert shown and all(c["significance"] == level for c in shown)
    assert client.get("/api/notices/partners4it/diff/1..3", params={"tag": "nope"}).json()["clauses"] == []
    assert "silent_change" in client.get("/notices/partners4it").text

    change_id = notice["changes"][0]["id"]
    redirect = client.get(f"/changes/{change_id}", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/notices/partners4it/diff/1..2"
    assert client.get("/api/notices/partners4it/diff/1..2").json()["change_id"] == change_id
    stored = client.get(f"/api/changes/{change_id}").json()["clauses"]
    page_clauses = client.get("/api/notices/partners4it/diff/1..2").json()["clauses"]
    assert [(c["kind"], c["new_text"]) for c in page_clauses] == [(c["kind"], c["new_text"]) for c in stored]
    assert 'id="clause-0"' in client.get("/notices/partners4it/diff/1..2").text  # digest links: #clause-N
    alias = client.get("/sources/partners4it", follow_redirects=False)
    assert alias.status_code == 308 and alias.headers["location"] == "/notices/partners4it"
    assert client.get("/api/notices/partners4it/diff/1..9").status_code == 404
    assert client.get("/notices/partners4it/diff/x..2").status_code == 422
    assert client.get("/notices/nobody").status_code == 404


def test_version_page_outline_markdown_and_raw_download(history):
    client = client_for(history)
    data = client.get("/api/notices/partners4it/versions/2").json()
    assert data["previous"] == 1 and data["next"] == 3
    assert any(h["text"].startswith("UW RECHTEN") or "RECHTEN" in h["text"] for h in data["outline"])
    page = client.get("/notices/partners4it/versions/2").text
    assert 'class="outline"' in page and f'href="#b{data["outline"][0]["index"]}"' in page
    assert "ook in de Verenigde Staten" in page
    markdown = client.get("/notices/partners4it/versions/2/markdown")
    assert markdown.headers["content-disposition"].startswith("attachment;")
    assert markdown.text == data["markdown"]
    raw = client.get("/notices/partners4it/versions/2/raw")
    assert raw.status_code == 200
    assert raw.headers["content-disposition"].startswith("attachment;")
    assert raw.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in raw.headers["content-security-policy"]
    assert raw.content == history.archive.get(data["raw_sha256"])


def test_blame_says_since_when_each_clause_stood(history):
    client = client_for(history)
    changes = client.get("/api/notices/partners4it").json()["changes"]
    blame = client.get("/api/notices/partners4it/versions/3/blame").json()["clauses"]
    by_text = {c["text"]: c for c in blame}
    us = next(c for t, c in by_text.items() if "Verenigde Staten" in t)
    days = next(c for t, c in by_text.items() if "binnen 14 dagen" in t)
    assert (us["since_version"], us["change_id"]) == (2, changes[0]["id"])
    assert (days["since_version"], days["change_id"]) == (3, changes[1]["id"])
    others = [c for c in blame if c is not us and c is not days]
    assert others and all(c["since_version"] == 1 and c["change_id"] is None for c in others)
    page = client.get("/notices/partners4it/versions/3/blame").text
    assert f'class="blame-link" href="/changes/{changes[0]["id"]}"' in page


def test_search_phrases_and_the_versions_they_stood_in(history):
    client = client_for(history)
    hits = client.get("/api/search", params={"q": '"Verenigde Staten"', "source": "partners4it"}).json()["hits"]
    assert len(hits) == 1 and hits[0]["versions"] == [2, 3] and hits[0]["version_ranges"] == "v2–v3"
    assert ["hit", "Verenigde Staten"] in hits[0]["highlight"]
    old = client.get("/api/search", params={"q": '"binnen 30 dagen"'}).json()["hits"]
    assert [(h["source"], h["versions"]) for h in old] == [("partners4it", [1, 2])]
    assert client.get("/api/search", params={"q": '"binnen 30 dagen" onbestaandwoord'}).json()["hits"] == []
    for nasty in ['"', "AND OR NOT", "*", "NEAR(", "a:b", "'; DROP TABLE version; --", ")))"]:
        assert client.get("/api/search", params={"q": nasty}).status_code == 200
    page = client.get("/search", params={"q": "Verenigde Staten"}).text
    assert "<mark>Verenigde</mark>" in page and "stood in v2–v3" in page
    if history.engine.dialect.name == "sqlite":  # a copied database (migrate-storage) has no FTS5 rows
        with history.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_clause_fts"))
        again = client.get("/api/search", params={"q": '"Verenigde Staten"', "source": "partners4it"}).json()
        assert [h["versions"] for h in again["hits"]] == [[2, 3]]


def test_feeds_are_atom_and_link_to_diff_pages(history):
    client = client_for(history)
    response = client.get("/feeds/changes.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.content)
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 2
    assert entries[0].find("a:link", ns).get("href").endswith("/notices/partners4it/diff/2..3")
    own = ET.fromstring(client.get("/notices/partners4it/changes.atom").content)
    assert len(own.findall("a:entry", ns)) == 2
    assert ET.fromstring(client.get("/notices/cetit/changes.atom").content).findall("a:entry", ns) == []
    assert client.get("/notices/nobody/changes.atom").status_code == 404


def test_hostile_content_is_escaped_and_the_app_is_read_only(history):
    client = client_for(history)
    for path in ["/", "/notices/hostile", "/notices/hostile/versions/1", "/notices/hostile/versions/1/blame",
                 "/search?q=pwned"]:
        response = client.get(path)
        assert response.status_code == 200
        assert "script-src" not in response.headers["content-security-policy"]
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.text and "<img src=x" not in response.text and "<b>Corp" not in response.text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in client.get("/notices/hostile/versions/1").text
    assert "Hostile &lt;b&gt;Corp&lt;/b&gt;" in client.get("/").text
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/notices").status_code == 405


def test_credentials_are_required_beyond_loopback(history):
    assert not credentials_for("127.0.0.1", {}).required
    assert not credentials_for("::1", {}).required
    with pytest.raises(UnsafeBinding, match="NOTICEWATCH_WEB_TOKEN"):
        credentials_for("0.0.0.0", {})
    creds = credentials_for("0.0.0.0", {"NOTICEWATCH_WEB_TOKEN": "s3cret"})
    client = client_for(history, credentials=creds)
    assert client.get("/api/notices").status_code == 401
    assert "www-authenticate" in client.get("/").headers
    assert client.get("/api/notices", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/notices", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/", auth=("anyone", "s3cret")).status_code == 200
    basic = client_for(history, credentials=Credentials(user="privacy", password="team"))
    assert basic.get("/", auth=("privacy", "team")).status_code == 200
    assert basic.get("/", auth=("privacy", "nope")).status_code == 401
    assert basic.get("/", headers={"Authorization": "Basic !!notbase64"}).status_code == 401


def test_serve_refuses_public_binding_without_credentials(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text('[storage]\ndatabase = "sqlite:///db.sqlite"\n', encoding="utf-8")
    result = run_cli(config, "serve", "--host", "0.0.0.0", "--port", "1",
                     env={"NOTICEWATCH_WEB_TOKEN": "", "NOTICEWATCH_WEB_USER": "", "NOTICEWATCH_WEB_PASSWORD": ""})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "needs credentials" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[web]\nport = 99999\n", encoding="utf-8")
    result = run_cli(bad, "serve")
    assert result.returncode == 2 and "web.port" in result.stderr


def test_user_templates_override_the_shipped_ones(history, tmp_path):
    user = tmp_path / "mytemplates" / "web"
    user.mkdir(parents=True)
    (user / "error.html").write_text("custom 404: {{ message }}", encoding="utf-8")
    client = client_for(history, templates=str(tmp_path / "mytemplates"))
    response = client.get("/notices/<nobody>")
    assert response.status_code in (404, 422)
    missing = client.get("/notices/nobody")
    assert missing.status_code == 404 and missing.text == "custom 404: no notice &#39;nobody&#39;"
    assert "Watched notices" in client.get("/").text  # other templates still come from templates/web


def test_overview_shows_the_fleet_in_scale_mode(history, tmp_path):
    import uuid

    from monitor.config.settings import LoadedConfig, parse_config
    from monitor.fleet.state import fleet_status

    prefix = f"nwtest-{uuid.uuid4().hex[:8]}"
    config = parse_config(f'[frontier]\nredis = "redis://127.0.0.1:6379/0"\nkey_prefix = "{prefix}"\n', "t.toml")
    loaded = LoadedConfig(config, tmp_path / "t.toml")
    client = client_for(history, fleet=lambda: fleet_status(history.engine, loaded))
    api = client.get("/api/notices").json()["fleet"]
    assert api["frontier"] == {"waiting": 0, "claimed": 0} and api["workers"] == []
    assert api["schema"] == "noticewatch.fleet/1" and "fetches_per_minute" in api
    page = client.get("/").text
    assert "frontier: 0 waiting, 0 claimed" in page and "fetches/min" in page
    assert client_for(history).get("/api/notices").json()["fleet"] is None
