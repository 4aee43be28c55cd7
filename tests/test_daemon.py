"""`noticewatch daemon` as a real process against the local seed site, on SQLite and PostgreSQL:
cycles on a few-second schedule, a digest in a real SMTP server, a clean exit on SIGTERM (also
mid-cycle), a consistent database, and a restart that keeps the job store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from monitor.archive.blobs import Archive
from monitor.store.db import open_db
from monitor.store.lock import CrawlLock
from monitor.store.models import Blob, Fetch, Version
from monitor.store.outbox import DigestMessage
from tests.support import REPO, SUBSCRIPTION_TOML, SMTPServer, mail_toml

SCHEDULE = '\n[schedule]\ndefault = "every 3s"\njitter = 0\nlock_ttl = "30s"\n'


class DaemonProcess:
    """The daemon as a child process, its logfmt stderr collected line by line."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "daemon"],
                                     cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def events(self, name: str) -> list[dict[str, str]]:
        out = []
        for line in list(self.lines):
            if f" event={name} " in line + " ":
                out.append(dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line)))
        return out

    def wait_for(self, name: str, count: int = 1, timeout: float = 90, where=lambda _event: True
                 ) -> list[dict[str, str]]:
        def found() -> list[dict[str, str]]:
            return [event for event in self.events(name) if where(event)]

        deadline = time.monotonic() + timeout
        while len(found()) < count and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.1)
        assert len(found()) >= count, f"no {count}x {name} in:\n" + "\n".join(self.lines)
        return found()

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def daemons():
    started: list[DaemonProcess] = []

    def start(config: Path) -> DaemonProcess:
        started.append(DaemonProcess(config))
        return started[-1]

    yield start
    for daemon in started:
        daemon.kill()


def assert_consistent(db_url: str, snapshots: Path, source_ids: list[str]) -> None:
    """Locks released, every fetched body archived, versions numbered without gaps."""
    engine = open_db(db_url)
    archive = Archive(snapshots)
    with Session(engine) as session:
        assert session.exec(select(CrawlLock)).all() == []
        fetches = session.exec(select(Fetch)).all()
        for fetch in fetches:
            if fetch.blob_sha256:
                assert session.get(Blob, fetch.blob_sha256) is not None
                assert archive.exists(fetch.blob_sha256)
        for source_id in source_ids:
            numbers = session.exec(select(Version.number).where(Version.source_id == source_id)
                                   .order_by(Version.number)).all()
            assert numbers == list(range(1, len(numbers) + 1))
    with engine.connect() as conn:
        jobs = sorted(row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs")))
    assert jobs == sorted(f"source:{s}" for s in source_ids)
    engine.dispose()


def test_daemon_runs_cycles_sends_a_digest_and_stops_cleanly(site, tmp_path, db_url, daemons):
    with SMTPServer() as smtp:
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url,
                                   extra=SCHEDULE + mail_toml(smtp) + SUBSCRIPTION_TOML)
        daemon = daemons(config)
        started = daemon.wait_for("daemon_started")[0]
        assert (started["jobs"], started["added"], started["timezone"]) == ("5", "5", "Europe/Amsterdam")
        assert started["digests"] == "true"
        daemon.wait_for("cycle_done")
        site.edit("partners4it", "We bewaren uw persoonlijke gegevens",
                  "We bewaren uw persoonlijke gegevens, ook in de Verenigde Staten,")
        # a later cycle records the change; the immediate subscription's digest goes out after it
        daemon.wait_for("digest_done", where=lambda event: event["sent"] == "1")
        done = daemon.wait_for("cycle_done", 2)
        assert daemon.stop() == 0
    assert daemon.events("daemon_stopped")
    assert [d["fetched"] for d in done[:2]] == ["5", "5"] and [d["failed"] for d in done[:2]] == ["0", "0"]
    assert [d["new"] for d in done[:2]] == ["5", "0"]
    assert sum(int(d["changed"]) for d in done) == 1
    assert all(line.startswith("ts=") and " level=" in line and " event=" in line for line in daemon.lines)
    assert not daemon.events("digest_failed")
    assert len(smtp.received) == 1
    mail = smtp.received[0]
    assert sorted(mail.rcpt_tos) == ["dpo@example.org", "privacy@example.org"]
    assert "Partners 4 IT BV" in mail.message["Subject"]
    engine = open_db(db_url)
    with Session(engine) as session:
        for event in done:  # every cycle the daemon reported is in the database, one fetch per source
            count = session.exec(select(func.count()).select_from(Fetch)
                                 .where(Fetch.cycle_id == event["cycle"])).one()
            assert count == 5
    engine.dispose()
    assert_consistent(db_url, tmp_path / "snapshots", list(site.pages))
    engine = open_db(db_url)
    with Session(engine) as session:
        assert [m.state for m in session.exec(select(DigestMessage)).all()] == ["sent"]
    engine.dispose()

    # a restart keeps the stored jobs instead of adding them again
    again = daemons(config)
    started = again.wait_for("daemon_started")[0]
    assert (started["kept"], started["added"], started["removed"]) == ("5", "0", "0")
    assert again.stop(signal.SIGINT) == 0
    assert_consistent(db_url, tmp_path / "snapshots", list(site.pages))


def test_sigterm_mid_cycle_lets_the_cycle_finish_its_writes(site, tmp_path, db_url, daemons):
    # one request per second to the one host: a cycle over five sources takes about five seconds
    config = site.write_config(tmp_path / "noticewatch.toml", database=db_url, delay=1.0, extra=SCHEDULE)
    daemon = daemons(config)
    daemon.wait_for("cycle_started")
    engine = open_db(db_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(Fetch)).one() >= 1:
                break
        time.sleep(0.05)
    assert daemon.stop() == 0
    done = daemon.events("cycle_done")
    assert len(done) == 1, "\n".join(daemon.lines)
    with Session(engine) as session:
        fetches = session.exec(select(Fetch).where(Fetch.cycle_id == done[0]["cycle"])).all()
    engine.dispose()
    # every source of the interrupted cycle is accounted for: fetched, or recorded as cut short
    assert sorted(f.source_id for f in fetches) == sorted(site.pages)
    assert any(f.outcome == "first" for f in fetches)
    for fetch in fetches:
        assert fetch.outcome == "first" or "shutdown" in (fetch.error or ""), (fetch.outcome, fetch.error)
    assert daemon.events("shutdown_requested")[0]["cycle_running"] == "true"
    assert daemon.events("daemon_stopped")
    assert_consistent(db_url, tmp_path / "snapshots", list(site.pages))
