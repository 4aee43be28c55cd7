"""Scale benchmark: N notices on local hosts, crawled by 1, 2 and 4 workers on PostgreSQL + Redis.

    python bench/scale.py [--notices 10000] [--hosts 50] [--workers 1,2,4] [--edited 0.05] [--no-validators]

Serves N seed-derived notices (realistic sizes: the five seeds, 6-58 KB of HTML) from several
127.0.0.x host names, fills a fresh PostgreSQL database with a first cycle (every notice new), then
for each worker count edits a fresh 5 % of the notices and times one cycle: enqueue -> all recorded.
Workers are started (and their start-up excluded) before the cycle is enqueued. Prints per cycle:
notices per second, worker CPU seconds per notice (from /proc, the workers only), CPU seconds per
notice of all postgres processes (an upper bound: other databases on the server count too), rows
and bytes added to PostgreSQL per notice, and the scaling factor against one worker. Redis and the
local web servers run on the same two cores and are not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from monitor.devtools import FleetSites  # noqa: E402
from monitor.store import CycleItem, open_db  # noqa: E402

POSTGRES = os.environ.get("NOTICEWATCH_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("NOTICEWATCH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU seconds of every postgres process now running (an upper bound: other databases count too)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:
            continue
        if text_.split(" ", 2)[1] == "(postgres)":
            fields = text_.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def table_rows(engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in SQLModel.metadata.sorted_tables)


def db_bytes(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()


def cli(config: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], cwd=REPO,
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    if result.returncode != 0:
        raise SystemExit(f"noticewatch {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def undone(engine, cycle_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CycleItem.__table__).where(
            CycleItem.cycle_id == cycle_id, CycleItem.done_at.is_(None))).scalar_one()


def run_cycle(config: Path, engine, workers: int, frontier_client, prefix: str, work: Path) -> dict:
    procs = [subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "worker"], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.DEVNULL, stderr=(work / f"worker{i}.log").open("w"))
             for i in range(workers)]
    try:
        deadline = time.monotonic() + 300
        while frontier_client.hlen(f"{prefix}:workers") < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"workers did not start; see {work}/worker*.log")
            time.sleep(0.2)
        rows0, bytes0 = table_rows(engine), db_bytes(engine)
        cpu0, pg0 = sum(cpu_seconds(p.pid) for p in procs), postgres_cpu()
        t0 = time.perf_counter()
        cycle_id = cli(config, "enqueue").split("cycle ", 1)[1].split(":", 1)[0]
        while undone(engine, cycle_id):
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
        pg_cpu = postgres_cpu() - pg0
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
        return {"wall": wall, "cpu": cpu, "pg_cpu": pg_cpu, "rows": table_rows(engine) - rows0,
                "bytes": db_bytes(engine) - bytes0}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=120)
        frontier_client.delete(f"{prefix}:workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--edited", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-validators", action="store_true",
                        help="serve no ETag/Last-Modified, so every unchanged notice is downloaded and extracted")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    admin = create_engine(make_url(POSTGRES), isolation_level="AUTOCOMMIT")
    name = f"nwbench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    prefix = f"nwbench-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    work = Path(tempfile.mkdtemp(prefix="nw-scale-"))
    results = []
    try:
        with FleetSites(args.notices, hosts=args.hosts) as sites:
            for site in sites.sites:
                site.validators = not args.no_validators
            config = sites.write_config(work / "noticewatch.toml", database=db_url, redis=REDIS, key_prefix=prefix,
                                        visibility_timeout=60, concurrency=args.concurrency)
            engine = open_db(db_url)
            n = args.notices
            print(f"{n} notices on {args.hosts} hosts, PostgreSQL {name}, Redis prefix {prefix}, work dir {work}")
            first = run_cycle(config, engine, max(counts), client, prefix, work)
            results.append((f"first cycle, {max(counts)} workers (all new)", max(counts), first))
            print(f"  first cycle done in {first['wall']:.0f} s", flush=True)
            edit_step = max(1, round(1 / args.edited))
            for index, workers in enumerate(counts):
                for page_id in sites.page_ids[index % edit_step::edit_step]:
                    sites.edit(page_id)
                stats = run_cycle(config, engine, workers, client, prefix, work)
                results.append((f"{args.edited:.0%} edited, {workers} worker(s)", workers, stats))
                print(f"  {workers} worker(s) done in {stats['wall']:.0f} s", flush=True)
            engine.dispose()
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    n = args.notices
    base = next(s for label, w, s in results if w == 1 and "edited" in label) if 1 in counts else None
    print(f"\n{'cycle':<34} {'notices/s':>10} {'CPU s/notice':>13} {'PG CPU s/n':>11} {'rows/notice':>12} "
          f"{'bytes/notice':>13} {'scaling':>8}")
    for label, _workers, stats in results:
        rate = n / stats["wall"]
        scaling = f"{rate / (n / base['wall']):.2f}x" if base and "edited" in label else ""
        print(f"{label:<34} {rate:>10.1f} {stats['cpu'] / n:>13.4f} {stats['pg_cpu'] / n:>11.4f} "
              f"{stats['rows'] / n:>12.2f} {stats['bytes'] / n:>13.0f} {scaling:>8}")
    print("\nscaling = notices/s with N workers / notices/s with 1 worker (target: N on N free cores; "
          "this machine has 2 cores shared with PostgreSQL, Redis and the web servers)")


if __name__ == "__main__":
    main()
