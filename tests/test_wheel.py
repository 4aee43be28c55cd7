"""A non-editable wheel works on its own: templates and data ship as package data.

Built from this checkout, installed without `-e` into a fresh virtual environment (its
dependencies reached through a path entry to the project's environment, so nothing is downloaded
and nothing of the checkout is importable), then run as a new user would: `noticewatch demo`,
`noticewatch serve` (overview and a diff page answer 200) and `noticewatch digest preview`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from tests.support import REPO, free_port, wait_for

pytestmark = pytest.mark.slow

SUBSCRIPTION = """
[mail]
host = "127.0.0.1"
port = 2525
from = "noticewatch <noticewatch@example.org>"
base_url = "http://127.0.0.1:8080"

[[subscription]]
name = "privacy-team"
to = ["privacy@example.org"]
frequency = "immediate"
language = "en"
"""


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp / "dist"), str(REPO)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp / "dist").glob("noticewatch-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True, timeout=300)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies, as a plain path entry: the checkout's editable finder (a .pth there) is not run.
    (purelib / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _run(venv: Path, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NOTICEWATCH_CONFIG")}
    return subprocess.run([str(venv / "bin" / "noticewatch"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def test_the_installed_package_is_the_wheel_not_the_checkout(wheel_venv, tmp_path):
    where = subprocess.run([str(wheel_venv / "bin" / "python"), "-c",
                            "import monitor, monitor.templates as t; print(monitor.__file__); print(t.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(wheel_venv) in path for path in where), where


def test_demo_serve_and_digest_preview_from_the_wheel(wheel_venv, tmp_path):
    demo = _run(wheel_venv, tmp_path, "demo", "--dir", str(tmp_path / "demo"))
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "partners4it" in demo.stdout
    config = tmp_path / "demo" / "noticewatch.toml"

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen([str(wheel_venv / "bin" / "noticewatch"), "--config", str(config), "serve",
                               "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def answers() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status == 200
            except OSError:
                return False

        wait_for(answers, 60, "noticewatch serve from the wheel")
        for path in ("/", "/notices/partners4it", "/notices/partners4it/diff/1..2", "/static/web.css"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                assert response.status == 200, path
                body = response.read().decode()
        assert "partners4it" in urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert body
    finally:
        server.terminate()
        server.wait(timeout=30)

    config.write_text(config.read_text() + SUBSCRIPTION)
    preview = _run(wheel_venv, tmp_path, "--config", str(config), "digest", "preview", "--html",
                   str(tmp_path / "digest.html"))
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert "Partners 4 IT" in preview.stdout
    assert "<html" in (tmp_path / "digest.html").read_text().lower()
