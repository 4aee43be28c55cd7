"""End to end through the real spider: noisy re-fetches, suspicious fetches, gone and moved notices,
rediscovery. Each cycle is `noticewatch run` in a child process against NoticeSite on 127.0.0.1."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.devtools.evaluate import DEFAULT_FIXTURES, Fixtures
from monitor.devtools.site import SEED_NAMES, NoticeSite, SitePage, notice_html_body, seed_text
from monitor.store.db import open_db
from monitor.store.models import Source, Version
from monitor.store.standing import source_problems
from tests.support import run_cli

FIXTURES = Fixtures(DEFAULT_FIXTURES)


def _page(seed_id: str) -> SitePage:
    return SitePage(SEED_NAMES[seed_id], seed_text(seed_id))


def _config(site: NoticeSite, tmp_path: Path, db_url: str, sources: str = "", crawl: str = "") -> Path:
    path = tmp_path / "noticewatch.toml"
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                    f"[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\n{crawl}\n{sources}", encoding="utf-8")
    return path


def _source(site: NoticeSite, page_id: str, **extra: str) -> str:
    lines = ["[[source]]", f'id = "{page_id}"', f'name = "{site.pages[page_id].company}"']
    if "homepage" not in extra:
        lines.append(f'url = "{site.url_for(page_id)}"')
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n\n"


def _run(config: Path) -> tuple[dict, str]:
    result = run_cli(config, "run", "--json")
    assert result.returncode == 0, result.stderr
    text = run_cli(config, "changes", "--json")
    assert text.returncode == 0, text.stderr
    return json.loads(result.stdout), json.loads(text.stdout)


def _run_text(config: Path) -> str:
    result = run_cli(config, "run")
    assert result.returncode == 0, result.stderr
    return result.stdout


def _versions(config: Path, source_id: str) -> int:
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        count = len(session.exec(select(Version).where(Version.source_id == source_id)).all())
    engine.dispose()
    return count


def _exact_hits(site: NoticeSite, path: str) -> int:
    with site.lock:
        return sum(1 for _m, p, _h in site.requests if p.split("?")[0] == path)


def test_noisy_refetches_give_no_change_and_a_real_edit_does(tmp_path, db_url):
    templates = FIXTURES.templates("noise")

    def noisy(page: SitePage, hit: int) -> bytes:
        return FIXTURES.render(templates[hit % len(templates)], random.Random(hit),
                               notice=notice_html_body(page.text), company=page.company)

    page = _page("ismt")
    page.renderer = noisy
    with NoticeSite(pages={"ismt": page}, validators=False) as site:
        config = _config(site, tmp_path, db_url, _source(site, "ismt"))
        for _ in range(3):
            summary, changes = _run(config)
            assert not summary["failed"] and not summary["suspicious"], summary
        assert summary["unchanged"] == 1 and changes["changes"] == []
        site.edit("ismt", "Eerst zie je een samenvatting op hoofdlijnen.",
                  "Eerst zie je een samenvatting op hoofdlijnen. Wij verkopen je gegevens aan adverteerders.")
        summary, changes = _run(config)
        assert summary["changed"] == 1
        [change] = changes["changes"]
        assert not change["cosmetic_only"]
        assert any("adverteerders" in (c.get("new_text") or "") for c in change["clauses"])


def test_suspicious_fetch_is_refetched_once_then_recorded_and_the_last_version_stands(tmp_path, db_url):
    page = _page("partners4it")
    with NoticeSite(pages={"partners4it": page}, validators=False) as site:
        config = _config(site, tmp_path, db_url, _source(site, "partners4it"))
        _run(config)
        soft_404 = FIXTURES.render("suspicious/soft-404.html", random.Random(1), notice="", company=page.company)
        page.renderer = lambda _page, _hit: soft_404
        before = _exact_hits(site, "/privacy/partners4it")
        out = _run_text(config)
        assert _exact_hits(site, "/privacy/partners4it") - before == 2  # the fetch and one re-fetch
        assert "suspicious partners4it: error page served with HTTP 200" in out
        assert "again after a re-fetch" in out and "last good version kept" in out
        assert _versions(config, "partners4it") == 1
        engine = open_db(load_config(config).database_url)
        with Session(engine) as session:
            [problem] = source_problems(session)
        engine.dispose()
        assert problem["source"] == "partners4it" and problem["state"] == "suspicious"

        page.renderer = None
        answers = [page.body(), soft_404]
        page.renderer = lambda _page, hit: answers[hit % 2]  # the error page first, the notice on the re-fetch
        summary, changes = _run(config)
        assert summary["unchanged"] == 1 and not summary["suspicious"] and changes["changes"] == []
        assert _versions(config, "partners4it") == 1


def test_notice_gone_is_reported_once_after_n_cycles_of_404(tmp_path, db_url):
    page = _page("cetit")
    with NoticeSite(pages={"cetit": page}) as site:
        config = _config(site, tmp_path, db_url, _source(site, "cetit"), crawl="gone_after = 2")
        _run(config)
        page.status = 404
        first, second, third = _run_text(config), _run_text(config), _run_text(config)
        assert "failed cetit: HTTP 404" in first and "notice gone" not in first
        assert "notice gone cetit: HTTP 404 on 2 consecutive cycles" in second
        assert "notice gone" not in third and "failed cetit" in third
        page.status = 200
        summary, _ = _run(config)
        assert summary["unchanged"] == 1
        engine = open_db(load_config(config).database_url)
        with Session(engine) as session:
            assert source_problems(session) == []
        engine.dispose()


def test_permanent_redirect_is_a_moved_notice_whose_history_continues(tmp_path, db_url):
    old, new = _page("westcon-comstor"), _page("westcon-comstor")
    with NoticeSite(pages={"westcon": old, "westcon-nl": new}) as site:
        config = _config(site, tmp_path, db_url, _source(site, "westcon"))
        _run(config)
        old.status, old.redirect = 301, site.url_for("westcon-nl")
        out = _run_text(config)
        assert f"notice moved westcon: {site.url_for('westcon')} → {site.url_for('westcon-nl')}" in out
        assert "1 unchanged" in out and _versions(config, "westcon") == 1
        before = _exact_hits(site, "/privacy/westcon")
        out = _run_text(config)
        assert "notice moved" not in out and "1 unchanged" in out
        assert _exact_hits(site, "/privacy/westcon") == before  # fetched at its new address directly
        site.edit("westcon-nl", "Westcon International Ltd is de verwerkingsverantwoordelijke",
                  "Westcon-Comstor B.V. is de verwerkingsverantwoordelijke")
        summary, changes = _run(config)
        assert summary["changed"] == 1 and changes["changes"][-1]["new_version"] == 2


def test_a_discovered_notice_that_goes_404_is_discovered_again(tmp_path, db_url):
    page = _page("cetit")
    with NoticeSite(pages={"cetit": page, "cetit-privacy": _page("cetit")}) as site:
        config = _config(site, tmp_path, db_url, _source(site, "cetit", homepage=site.homepage_for("cetit")))
        summary, _ = _run(config)
        assert summary["new"] == 1 and summary["found"] == {"cetit": site.url_for("cetit")}
        engine = open_db(load_config(config).database_url)
        with Session(engine) as session:
            assert session.get(Source, "cetit").discovered_url == site.url_for("cetit")
        home_hits = _exact_hits(site, "/home/cetit")
        summary, _ = _run(config)
        assert summary["unchanged"] == 1 and _exact_hits(site, "/home/cetit") == home_hits  # stored address used
        assert summary["found"] == {}
        page.status, page.privacy_path = 404, "/privacy/cetit-privacy"
        out = _run_text(config)
        assert "1 unchanged" in out and "0 failed" in out
        assert f"notice found cetit: {site.url_for('cetit-privacy')} (from its home page)" in out
        with Session(engine) as session:
            assert session.get(Source, "cetit").discovered_url == site.url_for("cetit-privacy")
        engine.dispose()
