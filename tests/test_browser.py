"""Script-rendered notices: render = "browser" fetches through the system Chromium (scrapy-playwright)."""

from __future__ import annotations

import json

from crawler.spiders.notices import browser_settings
from monitor.config.settings import load_config
from monitor.devtools.site import NoticeSite, SitePage, notice_html_body, seed_text
from tests.support import run_cli

SHELL = (b'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Privacy</title></head><body>'
         b'<main id="root">Laden\xe2\x80\xa6</main><script src="/static/notice.js"></script></body></html>')


def _site() -> NoticeSite:
    notice = notice_html_body(seed_text("partners4it"))
    script = f"document.getElementById('root').innerHTML = {json.dumps(notice)};".encode()
    pages = {"scripted": SitePage("Partners 4 IT BV", "", raw=SHELL),
             "plain": SitePage("CETIT bvba", seed_text("cetit"))}
    return NoticeSite(pages=pages, files={"/static/notice.js": ("application/javascript", script)})


def _config(site: NoticeSite, tmp_path, db_url: str, render: str):
    path = tmp_path / "nw.toml"
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "s"\n[crawl]\ndelay = 0\nretries = 0\n'
                    f'[[source]]\nid = "scripted"\nname = "Scripted"\nurl = "{site.url_for("scripted")}"\n'
                    f'render = "{render}"\n'
                    f'[[source]]\nid = "plain"\nname = "Plain"\nurl = "{site.url_for("plain")}"\n', encoding="utf-8")
    return path


def test_browser_handler_is_configured_only_for_cycles_with_browser_sources(tmp_path):
    with _site() as site:
        loaded = load_config(_config(site, tmp_path, "sqlite:///x.db", "browser"))
        assert browser_settings(loaded, ["plain"]) == {}
        settings = browser_settings(loaded, ["plain", "scripted"])
        assert settings["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == "/usr/bin/chromium"
        assert "--no-sandbox" in settings["PLAYWRIGHT_LAUNCH_OPTIONS"]["args"]


def test_script_rendered_notice_is_fetched_with_the_browser(tmp_path, db_url):
    with _site() as site:
        http_config = _config(site, tmp_path, db_url, "http")
        summary = json.loads(run_cli(http_config, "run", "--json", "--source", "scripted").stdout)
        assert "scripted" in summary["suspicious"]  # without a browser the page is an empty shell
        browser_config = _config(site, tmp_path, db_url, "browser")
        result = run_cli(browser_config, "run", "--json")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["new"] == 2, summary
        shown = run_cli(browser_config, "show", "scripted").stdout
        assert "Laatst gewijzigd" in shown and "Laden" not in shown
