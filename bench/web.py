"""Web benchmark: overview and diff page latency with 1,000 notices × 20 versions.

    python bench/web.py [--notices 1000] [--versions 20] [--requests 40] [--dir DIR]

Builds the history with the record step's own `new_version` (each seed extracted once, then one
clause edited per version, so every version is a real Document and every change a real diff),
with a fetch per version, and indexes it for search (timed: the one-off cost of `serve` on an
existing history); then starts `noticewatch serve` on 127.0.0.1 and times GET requests over
HTTP. Targets: overview median < 100 ms, diff median < 150 ms. `--dir` keeps (and reuses) the
database between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from monitor.core import Block, Document  # noqa: E402
from monitor.devtools import SEED_NAMES, notice_html_body, page_html, seed_texts  # noqa: E402
from monitor.extract import extract_document  # noqa: E402
from monitor.store import (  # noqa: E402
    Fetch,
    Source,
    Version,
    ensure_index,  # noqa: E402
    new_version,  # noqa: E402
    open_db,  # noqa: E402
)

TARGETS = {"overview": 0.100, "diff": 0.150}


def edited(document: Document, step: int, rng: random.Random) -> Document:
    """The document with one paragraph-like clause changed (a word swapped in, as notices change)."""
    blocks = list(document.blocks)
    candidates = [i for i, b in enumerate(blocks) if b.kind != "heading" and len(b.text) > 40]
    index = rng.choice(candidates)
    block = blocks[index]
    words = block.text.split()
    words.insert(rng.randrange(len(words)), f"(wijziging {step})")
    blocks[index] = Block(block.kind, " ".join(words), block.heading_path, block.level)
    return Document(blocks=blocks, title=document.title, language=document.language)


def populate(db_url: str, notices: int, versions: int) -> None:
    engine = open_db(db_url)
    with Session(engine) as session:
        if session.exec(select(Version.id).limit(1)).first() is not None:
            print("reusing the existing database")
            ensure_index(engine)
            return
    seeds = {sid: extract_document(page_html(SEED_NAMES[sid], notice_html_body(text)).encode(),
                                   "text/html; charset=utf-8", language="nl")
             for sid, text in seed_texts().items()}
    seed_ids = sorted(seeds)
    rng = random.Random(7)
    start = dt.datetime(2025, 1, 1, 6, tzinfo=dt.UTC)
    began = time.perf_counter()
    for n in range(notices):
        seed = seed_ids[n % len(seed_ids)]
        source_id = f"{seed}-{n:04d}"
        with Session(engine) as session:
            session.add(Source(id=source_id, name=f"{SEED_NAMES[seed]} {n}",
                               url=f"http://127.0.0.1:9/privacy/{source_id}"))
            session.flush()
            document, previous = seeds[seed], None
            for step in range(versions):
                when = start + dt.timedelta(days=7 * step, minutes=n)
                fetch = Fetch(source_id=source_id, url=f"http://127.0.0.1:9/privacy/{source_id}", status=200,
                              outcome="changed" if previous else "first", fetched_at=when)
                session.add(fetch)
                session.flush()
                if step:
                    document = edited(document, step, rng)
                previous, _change = new_version(session, source_id, document, fetch, None, previous)
            session.commit()
        if (n + 1) % 100 == 0:
            print(f"  {n + 1} notices recorded ({time.perf_counter() - began:.0f} s)", flush=True)
    began = time.perf_counter()
    indexed = ensure_index(engine)
    print(f"search index: {indexed} versions indexed in {time.perf_counter() - began:.1f} s "
          f"({indexed / (time.perf_counter() - began):.0f} versions/s)")
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        began = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    holder = None if args.dir else tempfile.TemporaryDirectory(prefix="noticewatch-bench-web-")
    work = args.dir or Path(holder.name)
    work.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{work / f'web-{args.notices}x{args.versions}.db'}"
    print(f"history: {args.notices} notices × {args.versions} versions in {db_url}")
    populate(db_url, args.notices, args.versions)
    config = work / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n', encoding="utf-8")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "serve", "--port", str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        for _ in range(150):
            try:
                client.get("/api/notices?limit=1")
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        rng = random.Random(11)
        with Session(open_db(db_url)) as session:
            sources = list(session.exec(select(Source.id)))
        diff_paths = []
        for _ in range(args.requests):
            source = rng.choice(sources)
            old = rng.randrange(1, args.versions)
            new = rng.choice([old + 1, rng.randrange(old + 1, args.versions + 1)])
            diff_paths.append(f"/notices/{source}/diff/{old}..{new}")
        timed(client, ["/", diff_paths[0]] * 3)  # warm-up
        results = {
            "overview": timed(client, ["/"] * args.requests),
            f"overview (all {args.notices} rows)": timed(client, [f"/?limit={args.notices}"] * args.requests),
            "overview JSON": timed(client, ["/api/notices"] * args.requests),
            "diff": timed(client, diff_paths),
            "diff JSON": timed(client, [p.replace("/notices/", "/api/notices/", 1) for p in diff_paths]),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"\n{'page':<28}{'median ms':>10}{'p90 ms':>9}{'target ms':>11}{'median/target':>15}")
    for name, times in results.items():
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        target = TARGETS.get(name)
        ratio = f"{median / target:.2f}" if target else "-"
        print(f"{name:<28}{median * 1000:>10.1f}{p90 * 1000:>9.1f}{(target or 0) * 1000 or '-':>11}{ratio:>15}")
    if holder:
        holder.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
