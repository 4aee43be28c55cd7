"""`noticewatch run` for cron and terminals: quiet when all is well, one line per failed source, logfmt on
request; SIGTERM / Ctrl-C stop a cycle within seconds, record what was cut short, release the locks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.store import Fetch, open_db
from monitor.store.lock import holders, lock_name
from tests.support import REPO, free_port, run_cli


def test_a_clean_cycle_writes_nothing_to_stderr(config_path):
    result = run_cli(config_path, "run")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "5 sources, 5 fetched" in result.stdout


def _unreachable(tmp_path: Path, count: int = 5) -> Path:
    lines = ["[storage]", f'database = "sqlite:///{tmp_path / "nw.db"}"', "[crawl]", "retries = 1",
             "retry_backoff = 0.1", "timeout = 5", ""]
    for i in range(1, count + 1):
        lines += ["[[source]]", f'id = "site-{i}"', f'name = "Site {i}"', f'url = "https://nosuch-{i}.invalid/p"', ""]
    path = tmp_path / "noticewatch.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_five_unreachable_sources_are_five_lines_and_verbose_is_logfmt(tmp_path):
    config = _unreachable(tmp_path)
    result = run_cli(config, "run", timeout=120)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"site-{i}" for i in range(1, 6)]
    assert all("nosuch-" in line and "Traceback" not in line for line in lines)
    verbose = run_cli(config, "-v", "run", timeout=120)
    logged = verbose.stderr.splitlines()
    assert len(logged) > 5 and all(line.startswith("ts=") or line.startswith("site-") for line in logged)
    assert any("event=scrapy" in line for line in logged)


class Stall:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: fetches stay in flight."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def stall():
    server = Stall()
    yield server
    server.close()


def _stalled_config(tmp_path: Path, port: int, db_url: str, ttl: str = "10m") -> Path:
    lines = ["[storage]", f'database = "{db_url}"', f'snapshots = "{tmp_path / "snapshots"}"', "[crawl]",
             "timeout = 120", "retries = 0", "[schedule]", f'lock_ttl = "{ttl}"', ""]
    for i in range(1, 4):
        lines += ["[[source]]", f'id = "slow-{i}"', f'name = "Slow {i}"', f'url = "http://127.0.0.1:{port}/p{i}"',
                  "obey_robots = false", ""]
    path = tmp_path / "noticewatch.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _start(config: Path, stall: Stall) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not stall.accepted and time.monotonic() < deadline:  # a fetch in flight (one per host at a time)
        time.sleep(0.05)
    assert stall.accepted
    return proc


@pytest.mark.parametrize(("signals", "code", "within"), [
    ([signal.SIGTERM], 143, 10.0),
    ([signal.SIGINT], 130, 10.0),
    ([signal.SIGINT, signal.SIGINT], 130, 3.0),
])
def test_a_signal_stops_the_cycle_records_interrupted_and_releases_locks(tmp_path, db_url, stall, signals, code,
                                                                         within):
    config = _stalled_config(tmp_path, stall.port, db_url)
    proc = _start(config, stall)
    started = time.monotonic()
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.2)
    _out, err = proc.communicate(timeout=30)
    took = time.monotonic() - started
    assert proc.returncode == code, err
    assert took < within, f"stopped after {took:.1f} s"
    assert err.strip().splitlines()[-1].startswith("noticewatch: interrupted by SIG")
    engine = open_db(db_url)
    with Session(engine) as session:
        outcomes = sorted((f.source_id, f.outcome) for f in session.exec(select(Fetch)))
    assert outcomes == [(f"slow-{i}", "interrupted") for i in range(1, 4)]
    assert holders(engine, [lock_name(f"slow-{i}") for i in range(1, 4)]) == {}
    status = run_cli(config, "status", "--json", timeout=60)
    assert '"failing"' not in status.stdout  # interrupted is not a failure
    engine.dispose()


def test_after_a_kill_the_next_run_takes_the_dead_processs_locks_at_once(tmp_path, db_url, stall):
    config = _stalled_config(tmp_path, stall.port, db_url, ttl="10m")
    proc = _start(config, stall)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    engine = open_db(db_url)
    assert len(holders(engine, [lock_name(f"slow-{i}") for i in range(1, 4)])) == 3  # left behind
    time.sleep(0.5)
    refusing = _stalled_config(tmp_path, free_port(), db_url)  # the same sources, now refused: fails fast
    again = run_cli(refusing, "run", timeout=120)
    assert again.returncode == 0, again.stderr  # not 75: the holder is a dead process on this host
    assert "3 sources" in again.stdout
    engine.dispose()
