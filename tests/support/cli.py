"""`noticewatch` as a real child process, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(config: Path | None, *args: str, cwd: Path | None = None, timeout: float = 180,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `noticewatch` as a real process, as a user would."""
    cmd = [sys.executable, "-m", "monitor"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += list(args)
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd or REPO, env=full_env,
                          check=False)
