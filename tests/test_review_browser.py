"""The review form in a real Chromium against `noticewatch serve` with credentials; CSRF refusals over HTTP;
the overview on a phone-width screen. Playwright drives Debian's /usr/bin/chromium (no download)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import sync_playwright
from sqlmodel import Session

from monitor.config import load_config
from monitor.store import open_db, reviews_for
from tests.support import REPO, free_port
from tests.support.digest import seed_history
from tests.support.smtp import write_config

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
USER, PASSWORD, TOKEN = "anna", "pw-of-anna", "t0ken"


def _serve(config, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "serve", "--port", str(port)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/api/notices", timeout=2)
            return proc, base
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    config = write_config(tmp / "noticewatch.toml", f"sqlite:///{tmp / 'nw.db'}", None, subscriptions="")
    engine = open_db(load_config(config).database_url)
    ids = seed_history(engine, dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    return config, engine, ids


@pytest.fixture(scope="module")
def guarded(history):
    config, _engine, _ids = history
    proc, base = _serve(config, {"NOTICEWATCH_WEB_TOKEN": TOKEN, "NOTICEWATCH_WEB_USER": USER,
                                 "NOTICEWATCH_WEB_PASSWORD": PASSWORD})
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def test_marking_a_change_reviewed_with_the_form_in_chromium(history, guarded, browser):
    _config, engine, ids = history
    context = browser.new_context(http_credentials={"username": USER, "password": PASSWORD},
                                  java_script_enabled=False)  # the form needs no script
    page = context.new_page()
    page.goto(f"{guarded}/changes/{ids[0]}/review")
    assert "Not yet reviewed." in page.content()
    page.fill("input[name=note]", "Bewaartermijn langer; <b>DPO</b> gevraagd")
    with page.expect_navigation():
        page.click("form.review-form button[type=submit]")
    text = page.inner_text("body")
    assert "Reviewed by anna at " in text and "<b>DPO</b> gevraagd" in text  # escaped, shown as typed
    with Session(engine) as session:
        review = reviews_for(session, [ids[0]])[ids[0]]
    assert review.reviewed_by == "anna" and review.note == "Bewaartermijn langer; <b>DPO</b> gevraagd"
    page.goto(guarded + "/?sort=unreviewed")
    row = page.locator(f"tr[data-source='{_source_of(ids[0], engine)}']")
    assert "✓" in row.inner_text() or "open" in row.inner_text()
    context.close()


def _source_of(change_id: int, engine) -> str:
    from monitor.store import Change

    with Session(engine) as session:
        return session.get(Change, change_id).source_id


def test_forged_or_foreign_posts_are_refused_and_the_api_takes_json(history, guarded):
    _config, engine, ids = history
    auth = (USER, PASSWORD)
    url = f"{guarded}/changes/{ids[1]}/review"
    assert httpx.post(url, data={"note": "x"}, auth=auth).status_code == 403  # no CSRF token
    assert httpx.post(url, data={"note": "x", "csrf": "0" * 64}, auth=auth).status_code == 403
    form = httpx.get(url, auth=auth).text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    foreign = httpx.post(url, data={"note": "x", "csrf": token}, auth=auth,
                         headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == 403
    assert httpx.post(url, data={"note": "x", "csrf": token}).status_code == 401  # no credentials at all
    with Session(engine) as session:
        assert ids[1] not in reviews_for(session, [ids[1]])
    api = httpx.post(f"{guarded}/api/changes/{ids[1]}/review", json={"note": "ok"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 200 and api.json()["review"]["reviewed_by"] == "token"
    as_form = httpx.post(f"{guarded}/api/changes/{ids[1]}/review", data={"note": "x"},
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert as_form.status_code == 422  # a cross-site form cannot send JSON


def test_an_open_loopback_server_shows_reviews_but_takes_no_posts(history):
    config, _engine, ids = history
    proc, base = _serve(config, {"NOTICEWATCH_WEB_TOKEN": "", "NOTICEWATCH_WEB_USER": "",
                                 "NOTICEWATCH_WEB_PASSWORD": ""})
    try:
        page = httpx.get(f"{base}/changes/{ids[2]}/review")
        assert page.status_code == 200 and "<form method=\"post\"" not in page.text
        assert "NOTICEWATCH_WEB_TOKEN" in page.text
        assert httpx.post(f"{base}/changes/{ids[2]}/review", data={"note": "x"}).status_code == 405
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_overview_fits_a_phone_and_its_table_scrolls_instead_of_being_cut(guarded, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740},
                                  http_credentials={"username": USER, "password": PASSWORD})
    page = context.new_page()
    page.goto(guarded + "/")
    widths = page.evaluate("""() => {
        const box = document.querySelector('.scroll');
        return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                box: box.clientWidth, table: box.scrollWidth};
    }""")
    assert widths["page"] <= widths["view"] + 1, widths  # the page itself does not scroll sideways
    assert widths["table"] >= widths["box"], widths  # the table scrolls inside its box, nothing cut off
    assert page.locator("th", has_text="Last change").is_visible()
    assert "inhoudelijk" not in page.content() and "material" in page.content()  # [web] language = en
    context.close()
