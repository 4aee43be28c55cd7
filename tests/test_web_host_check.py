"""`serve` answers only the Host names it was started for (issue 16: DNS rebinding of the open API).
Over real HTTP against a `noticewatch serve` child process on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.web.security import allowed_hosts_for, host_name
from tests.support.cli import REPO
from tests.support.net import free_port


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostcheck")
    config = tmp / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{tmp}/nw.db"\nsnapshots = "snapshots"\n\n'
                      '[web]\nallowed_hosts = ["notices.example.org"]\n', "utf-8")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "serve", "--port", str(port)],
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _status(port, f"127.0.0.1:{port}") is None:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=10)


def _status(port: int, host: str | None, path: str = "/api/notices") -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_host=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def test_own_names_are_answered_and_others_get_400(served):
    port = served
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"notices.example.org:{port}",
                 "NOTICES.example.org."):
        assert _status(port, host) == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", "notices.example.org.evil",
                 f"[::2]:{port}", None, ""):
        assert _status(port, host) == 400, host
    assert _status(port, "attacker.example", "/") == 400


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=30))
def test_no_foreign_name_is_allowed_on_loopback(name):
    allowed = allowed_hosts_for("127.0.0.1", ["notices.example.org"])
    expected = host_name(name) in {"localhost", "127.0.0.1", "notices.example.org"}
    assert allowed.accepts(name) == expected
    assert allowed.accepts(f"{name}:8080") == expected


def test_every_interface_binding_accepts_ip_literals_but_not_names():
    allowed = allowed_hosts_for("0.0.0.0")
    assert allowed.accepts("192.0.2.7:8080") and allowed.accepts("[2001:db8::1]:8080")
    assert not allowed.accepts("rebind.example:8080")
