"""The history browser in a real Chromium (Playwright, Debian's /usr/bin/chromium, no browser download).

The database comes from real crawl cycles (`noticewatch run` against the local NoticeSite) and the
app runs as `noticewatch serve` on 127.0.0.1, so every layer is the real one.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from monitor.devtools.site import NoticeSite, SitePage, seed_text
from monitor.schedule.cycle import run_cycle_subprocess
from tests.support import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
HOSTILE = "Klik nooit op <script>window.__pwned = 1</script> in een formulier."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Three real crawl cycles with edits between them, then `noticewatch serve` on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("browser")
    pages = {"partners4it": SitePage("Partners 4 IT BV", seed_text("partners4it")),
             "cetit": SitePage("CETIT bvba", seed_text("cetit")),
             "hostile": SitePage("Hostile Corp", seed_text("ismt") + "\n\n" + HOSTILE + "\n")}
    with NoticeSite(pages) as site:
        config = site.write_config(tmp / "noticewatch.toml")
        for edit in (None, ("We bewaren uw persoonlijke gegevens", "We bewaren uw persoonlijke gegevens, ook in de "
                                                                     "Verenigde Staten,"),
                     ("binnen 30 dagen", "binnen 14 dagen")):
            if edit:
                site.edit("partners4it", *edit)
            result = run_cycle_subprocess(config, timeout=120)
            assert result.returncode == 0, result.stderr
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "serve", "--port", str(port)],
                               cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/api/notices", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def test_overview_to_diff_search_and_blame(server, page):
    page.goto(server + "/")
    expect(page.locator("tr.notice-row")).to_have_count(3)
    page.get_by_role("link", name="Partners 4 IT BV").click()
    expect(page).to_have_url(re.compile(r"/notices/partners4it$"))
    expect(page.locator("svg.chart")).to_be_visible()

    page.get_by_label("old v1").check()
    page.get_by_label("new v3").check()
    page.locator("#compare").click()
    expect(page).to_have_url(re.compile(r"/notices/partners4it/diff/1\.\.3$"))
    expect(page.locator("ins", has_text="Verenigde Staten")).to_be_visible()
    expect(page.locator("del", has_text="30")).to_be_visible()
    expect(page.locator("ins", has_text="14")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diff.png"), full_page=True)
    assert (ARTIFACTS / "diff.png").stat().st_size > 10_000

    page.get_by_label("view").select_option("inline")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("div.inline ins", has_text="Verenigde Staten")).to_be_visible()

    page.get_by_label("Search all versions").fill('"binnen 14 dagen"')
    page.get_by_label("Search all versions").press("Enter")
    expect(page.locator("li.hit")).to_have_count(1)
    expect(page.locator("li.hit mark")).to_have_text("binnen 14 dagen")
    expect(page.locator("li.hit")).to_contain_text("stood in v3")

    page.locator("li.hit").get_by_role("link", name="clause history").click()
    expect(page).to_have_url(re.compile(r"/notices/partners4it/versions/3/blame"))
    us_row = page.locator("table.blame tr", has_text="Verenigde Staten")
    us_row.locator("a.blame-link").click()
    expect(page).to_have_url(re.compile(r"/notices/partners4it/diff/1\.\.2$"))
    expect(page.locator("ins", has_text="Verenigde Staten")).to_be_visible()


def test_hostile_notice_shows_as_text_and_runs_nothing(server, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("/notices/hostile/versions/1", "/notices/hostile/versions/1/blame", "/search?q=pwned"):
        page.goto(server + path)
        expect(page.get_by_text(HOSTILE).first).to_be_visible()
        assert page.evaluate("window.__pwned") is None
        assert page.locator("script").count() == 0
    assert dialogs == []
    download_headers = httpx.get(server + "/notices/hostile/versions/1/raw").headers
    assert download_headers["content-disposition"].startswith("attachment")


def test_screenshot_artifact_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(ARTIFACTS / "diff.png")], cwd=REPO, check=False)
    assert ignored.returncode == 0
