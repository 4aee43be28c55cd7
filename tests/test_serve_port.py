"""`serve` binds before it says it is serving: a busy port is one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from tests.support import REPO, run_cli


def test_serve_on_a_busy_port_is_one_line_and_never_claims_to_serve(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "db.sqlite"}"\n', encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli(config, "serve", "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"noticewatch: serve: cannot listen on 127.0.0.1:{port}: the port is in use " \
                            "(another `serve`?); use --port\n"
    assert "serving" not in result.stdout + result.stderr


def test_serve_says_serving_once_listening_and_answers(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "db.sqlite"}"\n', encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "serve", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line == f"noticewatch: serving http://127.0.0.1:{port}/ (read-only; Ctrl-C stops)\n"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
