"""Helpers of the scale tests: `noticewatch worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import REPO


def start_worker(config: Path, log: Path, *extra: str) -> subprocess.Popen:
    """`noticewatch worker` as a real child process."""
    handle = log.open("w")
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "worker", *extra],
                            cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
