"""Does the daemon leak over many cycles? RSS of the daemon process after 5 and after 50 cycles.

Starts `noticewatch daemon` against the local seed site with a 1-second schedule, counts `cycle_done`
events on its stderr and reads the daemon's resident set size from /proc. Target: RSS after 50 cycles
within 10 % of RSS after 5 (ratio <= 1.10). Takes about two minutes.

    python bench/daemon_memory.py [--cycles 50] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.devtools import NoticeSite  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--early", type=int, default=5)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nw-daemon-mem-") as tmp, NoticeSite() as site:
        config = site.write_config(Path(tmp) / "noticewatch.toml", database=args.database,
                                   extra='\n[schedule]\ndefault = "every 1s"\njitter = 0\n')
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "daemon"], cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE, text=True)
        done = threading.Semaphore(0)
        failures: list[str] = []

        def read() -> None:
            for line in proc.stderr:
                if " event=cycle_done " in line:
                    done.release()
                elif " level=error " in line:
                    failures.append(line.strip())

        threading.Thread(target=read, daemon=True).start()
        samples: dict[int, int] = {}
        started = time.monotonic()
        try:
            for cycle in range(1, args.cycles + 1):
                if not done.acquire(timeout=120):
                    print(f"daemon stalled after {cycle - 1} cycles", file=sys.stderr)
                    return 1
                if cycle in (args.early, args.cycles) or cycle % 10 == 0:
                    samples[cycle] = rss_kib(proc.pid)
                    print(f"after {cycle:>3} cycles: daemon RSS {samples[cycle] / 1024:.1f} MiB "
                          f"({time.monotonic() - started:.0f} s)", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
    ratio = samples[args.cycles] / samples[args.early]
    print(f"RSS after {args.cycles} / after {args.early} cycles: {ratio:.3f} (target <= 1.10: "
          f"{'met' if ratio <= 1.10 else 'NOT met'}); daemon exit code {code}; errors logged: {len(failures)}")
    return 0 if ratio <= 1.10 and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
