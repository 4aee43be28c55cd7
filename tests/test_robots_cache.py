"""Issue 14: robots.txt cached per origin in the database (RFC 9309), one request per notice in a steady
cycle, per-host politeness across cycles. Real cycles against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.config import load_config
from monitor.devtools import NoticeSite
from monitor.store import (
    CrawlHost,
    RobotsTxt,
    load_last_requests,
    load_robots,
    open_db,
    save_last_requests,
    save_robots,
    session_scope,
)
from tests.support import run_cli


def _run(config: Path, *args: str) -> dict:
    result = run_cli(config, "run", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _engine(config: Path):
    return open_db(load_config(config).database_url)


def _requests(site: NoticeSite) -> list[str]:
    with site.lock:
        paths = [path for _method, path, _headers in site.requests]
        site.requests.clear()
        site.request_times.clear()
    return paths


def test_a_steady_cycle_makes_exactly_one_request_per_notice(site, config_path):
    assert _run(config_path)["new"] == 5
    first = _requests(site)
    assert first.count("/robots.txt") == 1 and len(first) == 6
    assert _run(config_path)["unchanged"] == 5
    second = _requests(site)
    assert sorted(second) == sorted(f"/privacy/{pid}" for pid in site.pages)  # no robots.txt request
    with Session(_engine(config_path)) as session:
        (row,) = session.exec(select(RobotsTxt)).all()
    assert row.origin == site.base_url and row.status == 200 and "Disallow: /private/" in row.body


def test_a_stale_robots_txt_is_fetched_again_and_obeyed(site, config_path):
    _run(config_path, "--source", "ismt")
    site.robots_txt = "User-agent: *\nDisallow: /privacy/ismt\n"
    assert _run(config_path, "--source", "ismt")["unchanged"] == 1  # the cached copy still stands
    with session_scope(_engine(config_path)) as session:
        row = session.get(RobotsTxt, site.base_url)
        row.fetched_at = datetime.now(UTC) - timedelta(hours=25)
        session.add(row)
    _requests(site)
    assert _run(config_path, "--source", "ismt")["failed"] == {"ismt": "forbidden by robots.txt"}
    assert _requests(site) == ["/robots.txt"]


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (410, True), (503, False)])
def test_robots_txt_status_4xx_allows_and_5xx_disallows_for_the_cycle(site, config_path, status, allowed):
    site.robots_status = status
    site.robots_txt = "User-agent: *\nDisallow: /\n"  # the body of an error answer is never a rule
    summary = _run(config_path)
    if allowed:
        assert summary["new"] == 5 and summary["failed"] == {}
        _requests(site)
        _run(config_path)
        assert "/robots.txt" not in _requests(site)  # 4xx is remembered like a robots.txt
    else:
        assert summary["new"] == 0
        assert set(summary["failed"].values()) == {"robots.txt answered HTTP 503: disallowed this cycle"}
        assert not any(p.startswith("/privacy/") for p in _requests(site))
        site.robots_status, site.robots_txt = 200, "User-agent: *\nDisallow: /private/\n"
        assert _run(config_path)["new"] == 5  # not cached: asked again next cycle


@pytest.mark.slow
def test_politeness_holds_across_cycles(tmp_path):
    delay = 4.0
    with NoticeSite() as site:
        site.pages = {"ismt": site.pages["ismt"]}
        config = site.write_config(tmp_path / "noticewatch.toml", delay=delay)
        _run(config)
        with site.lock:
            end_of_first = site.request_times[-1]
        _run(config)  # starts at once, well within `delay` of the first cycle's last request
        with site.lock:
            start_of_second = site.request_times[-1]
            assert len(site.request_times) == 3  # robots.txt, notice; then the notice alone
    assert start_of_second - end_of_first >= delay - 0.1
    with Session(open_db(load_config(config).database_url)) as session:
        assert session.get(CrawlHost, "127.0.0.1") is not None


def test_saved_host_times_only_move_forward_and_robots_are_replaced(db_url):
    """What fleet workers write side by side: every host in one statement, a later stored time wins."""
    engine = open_db(db_url)
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    save_last_requests(engine, {"a.example": t0, "b.example": t0})
    save_last_requests(engine, {"a.example": t0 - timedelta(seconds=5), "b.example": t0 + timedelta(seconds=5),
                                "c.example": t0})
    assert {host: when.replace(tzinfo=None) for host, when in load_last_requests(engine).items()} == {
        "a.example": t0.replace(tzinfo=None), "b.example": (t0 + timedelta(seconds=5)).replace(tzinfo=None),
        "c.example": t0.replace(tzinfo=None)}
    save_robots(engine, "https://a.example", 200, "User-agent: *\nDisallow: /x\n", t0)
    save_robots(engine, "https://a.example", 404, None, t0 + timedelta(hours=1))
    (row,) = load_robots(engine).values()
    assert (row.status, row.body) == (404, None)
    engine.dispose()


def test_a_first_cycle_fetches_every_hosts_robots_txt_at_once_and_stays_polite(tmp_path):
    """More hosts than requests in flight: no first request holds a place while its robots.txt is
    fetched and its host's delay passes, so the robots.txt of all hosts come at once; each host still
    gets its notice only `delay` (±50 %) after its robots.txt."""
    delay, hosts = 1.0, 12
    with NoticeSite(host="0.0.0.0") as site:  # noqa: S104 (serves 127.0.0.x only: the loopback hosts)
        pages = list(site.pages.values())
        site.pages = {f"n{i:02d}": pages[i % len(pages)] for i in range(hosts)}
        port = site.base_url.rsplit(":", 1)[1]
        lines = ["[crawl]", f"delay = {delay}", "concurrency = 3", ""]
        for i, page_id in enumerate(site.pages):
            lines += ["[[source]]", f'id = "{page_id}"', f'name = "{page_id}"',
                      f'url = "http://127.0.0.{i + 2}:{port}/privacy/{page_id}"',
                      'language = "nl"', ""]
        config = tmp_path / "noticewatch.toml"
        config.write_text("\n".join(lines))
        assert _run(config)["new"] == hosts
        with site.lock:
            seen = list(zip(site.request_times, site.requests, strict=True))
    robots = {headers["Host"]: when for when, (_m, path, headers) in seen if path == "/robots.txt"}
    notices = {headers["Host"]: when for when, (_m, path, headers) in seen if path.startswith("/privacy/")}
    assert len(robots) == len(notices) == hosts
    # Three in flight, holding a place a second apiece, spread them over 4 s (measured: 4.1 s); at once,
    # three at a time, they take a few hundredths of a second each (1.5 s leaves room for a loaded machine).
    assert max(robots.values()) - min(robots.values()) < 1.5
    assert all(notices[host] - robots[host] >= 0.5 * delay - 0.05 for host in robots)
