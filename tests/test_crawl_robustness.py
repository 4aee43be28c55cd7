"""Politeness and robustness of the real spider against local servers."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.store.db import open_db
from monitor.store.models import Fetch, Source, Version
from tests.support import REPO, free_port, run_cli


def _summary(config, *args):
    result = run_cli(config, "run", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _fetches(config):
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        return session.exec(select(Fetch).order_by(Fetch.id)).all()


def test_user_agent_names_noticewatch_version_and_contact(site, config_path):
    _summary(config_path, "--source", "ismt")
    agents = {h.get("User-Agent") for _m, path, h in site.requests if path.startswith("/privacy/")}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("noticewatch/0.") and "(+https://" in agent


def test_robots_txt_is_obeyed_by_default_and_switchable_per_source(site, tmp_path, db_url):
    site.robots_txt = "User-agent: *\nDisallow: /privacy/ismt\n"
    config = site.write_config(tmp_path / "nw.toml", database=db_url)
    summary = _summary(config)
    assert summary["failed"] == {"ismt": "forbidden by robots.txt"}
    assert site.hits("/privacy/ismt") == 0
    text = config.read_text().replace('id = "ismt"', 'id = "ismt"\nobey_robots = false')
    config.write_text(text)
    summary = _summary(config)
    assert summary["failed"] == {} and summary["new"] == 1
    assert site.hits("/privacy/ismt") == 1


def test_transient_errors_are_retried_and_recover(site, config_path):
    site.pages["cetit"].status = 503
    site.pages["cetit"].fail_times = 1
    summary = _summary(config_path, "--source", "cetit")
    assert summary["new"] == 1 and summary["failed"] == {}
    assert site.hits("/privacy/cetit") == 2


def test_connection_refused_and_not_found_are_failed_fetches(site, tmp_path, db_url):
    port = free_port()
    extra = (f'\n[[source]]\nid = "down"\nname = "Down"\nurl = "http://127.0.0.1:{port}/privacy"\n'
             f'\n[[source]]\nid = "missing"\nname = "Missing"\nurl = "{site.base_url}/privacy/nope"\n')
    config = site.write_config(tmp_path / "nw.toml", database=db_url, extra=extra)
    summary = _summary(config)
    assert summary["new"] == 5
    assert "ConnectionRefused" in summary["failed"]["down"]
    assert summary["failed"]["missing"] == "HTTP 404"
    failed = [f for f in _fetches(config) if f.outcome == "failed"]
    assert sorted(f.source_id for f in failed) == ["down", "missing"]
    assert all(f.blob_sha256 is None for f in failed)


def test_body_over_the_size_cap_is_a_failed_fetch(site, tmp_path, db_url):
    config = site.write_config(tmp_path / "nw.toml", database=db_url)
    config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\nmax_size = 20000\n"))
    summary = _summary(config)
    # Ingram Micro's page (~60 KB) is over the cap; the others (11-16 KB) are under it
    assert list(summary["failed"]) == ["ingram-micro"]
    assert summary["new"] == 4


def test_tiny_or_empty_body_is_not_a_version(site, config_path):
    _summary(config_path)
    site.pages["westcon-comstor"].raw = b"<html><body><p>Even geduld...</p></body></html>"
    summary = _summary(config_path)
    # a tiny body is a suspicious fetch (re-fetched once, then recorded with its reason)
    assert "westcon-comstor" in summary["suspicious"]
    assert "tiny" in summary["suspicious"]["westcon-comstor"] or "empty" in summary["suspicious"]["westcon-comstor"]
    engine = open_db(load_config(config_path).database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Version).where(Version.source_id == "westcon-comstor")).all()) == 1


def test_notice_is_discovered_from_the_home_page(site, tmp_path, db_url):
    extra = f'\n[[source]]\nid = "found"\nname = "Found"\nhomepage = "{site.homepage_for("cetit")}"\n'
    config = site.write_config(tmp_path / "nw.toml", database=db_url, extra=extra)
    summary = _summary(config, "--source", "found")
    assert summary["new"] == 1, summary
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        assert session.get(Source, "found").discovered_url == site.url_for("cetit")
        fetch = session.exec(select(Fetch).where(Fetch.source_id == "found")).one()
    assert fetch.final_url == site.url_for("cetit")


def test_scrapy_crawl_notices_runs_the_same_cycle(site, config_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "notices", "-s",
                             f"NOTICEWATCH_CONFIG={config_path}"], cwd=REPO, capture_output=True, text=True,
                            timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    engine = open_db(load_config(config_path).database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Version)).all()) == 5


def test_redirect_records_the_final_url(site, config_path):
    site.pages["cetit"].status = 302
    site.pages["cetit"].redirect = site.url_for("ismt")
    summary = _summary(config_path, "--source", "cetit")
    assert summary["new"] == 1
    [fetch] = _fetches(config_path)
    assert fetch.url == site.url_for("cetit") and fetch.final_url == site.url_for("ismt")
    assert fetch.status == 200


def test_unwritable_snapshot_directory_is_a_storage_error(site, tmp_path, db_url):
    blocker = tmp_path / "snapshots-file"
    blocker.write_text("in the way")
    config = site.write_config(tmp_path / "nw.toml", database=db_url, snapshots=str(blocker))
    result = run_cli(config, "run")
    assert result.returncode == 3
    assert "snapshots directory" in result.stderr and result.stderr.strip().count("\n") == 0
    assert site.hits("/privacy/") == 0


def test_progress_bar_is_shown_on_a_terminal(site, config_path):
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config_path), "run"],
                            stdin=slave, stdout=slave, stderr=slave, cwd=REPO, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "crawling" in output and "5 sources, 5 fetched" in output


def test_timeouts_and_unresolvable_hosts_are_failed_fetches(site, tmp_path, db_url):
    site.pages["cetit"].delay = 3.0
    extra = '\n[[source]]\nid = "nodns"\nname = "No DNS"\nurl = "http://nonexistent.invalid/privacy"\n'
    config = site.write_config(tmp_path / "nw.toml", database=db_url, extra=extra)
    config.write_text(config.read_text().replace("timeout = 10", "timeout = 1").replace("retries = 1", "retries = 0"))
    summary = _summary(config)
    assert set(summary["failed"]) == {"cetit", "nodns"}
    assert "Timeout" in summary["failed"]["cetit"] or "took longer" in summary["failed"]["cetit"]
    assert "DNS" in summary["failed"]["nodns"] or "lookup" in summary["failed"]["nodns"].lower()
    assert summary["new"] == 4
