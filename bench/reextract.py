"""Re-extraction benchmark (issue 14): `noticewatch reextract` over an archive of N bodies.

    python bench/reextract.py [--bodies 20000] [--sizes 5000,20000] [--sources 200] [--edit-every 10]
                              [--runs 2] [--cache /tmp/nw-reextract-cache] [--baseline /path/to/checkout]

It builds, once per size (kept under --cache and reused, as building costs more than re-extracting), an
archive of seed-derived notices through the real recording path: each fetch's body is put in the
archive and recorded by `record_fetch` (the document extracted beforehand in worker processes, as the
spider's extraction pool does). Source i shows seed i % 5 under its own company name; every fetch's
bytes differ (the page's own sequence number in its script and stylesheet address, so no two bodies
are equal), and every `--edit-every`-th fetch of a source edits its text (a new version and a change).

Then, per size and per run, on a fresh copy of the database, it times `python -m monitor --config …
reextract` in a child process and prints bodies/s (wall), bodies per CPU-second (the child and every
process it waited for: user + system), and the peak RSS of the child's process tree sampled every
20 ms, as RSS (what `ps` shows, pages the forked workers share counted in each) and PSS (shared pages
counted once): RSS flat means the same at both sizes. With --baseline, the same runs are made with another
checkout's code (PYTHONPATH) interleaved with this one's, so before/after is compared in one run on a
loaded machine. Last, the extraction time of the 62 KB Ingram Micro seed page (best of 7 x 30, CPU ms),
the same page again and a page whose every line is new each time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.archive import Archive  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.core import FetchResult  # noqa: E402
from monitor.devtools import SEED_NAMES, notice_html_body, page_html, seed_texts  # noqa: E402
from monitor.extract import extract_document  # noqa: E402
from monitor.store import open_db, record_fetch, sync_sources  # noqa: E402

CONTENT_TYPE = "text/html; charset=utf-8"
START = datetime(2026, 1, 1, 6, tzinfo=UTC)


def source_id(index: int) -> str:
    return f"n{index:05d}"


def write_config(work: Path, sources: int) -> Path:
    """The benchmark's noticewatch.toml: SQLite and snapshots beside it, one [[source]] per notice."""
    seeds = list(SEED_NAMES)
    lines = ["[storage]", 'snapshots = "snapshots"', 'database = "sqlite:///noticewatch.db"', ""]
    for i in range(sources):
        lines += ["[[source]]", f'id = "{source_id(i)}"', f'name = "{SEED_NAMES[seeds[i % len(seeds)]]} {i:05d}"',
                  f'url = "http://127.0.0.1:9/privacy/{source_id(i)}"', 'language = "nl"', ""]
    path = work / "noticewatch.toml"
    path.write_text("\n".join(lines))
    return path


def body_of(index: int, fetch: int, edit_every: int) -> bytes:
    """Source `index`'s page at its `fetch`-th fetch: its own bytes, its text edited every `edit_every` fetches."""
    seed = list(SEED_NAMES)[index % len(SEED_NAMES)]
    text = seed_texts()[seed]
    edits = fetch // edit_every
    if edits:
        text = text.replace("\n\n", f" Bijgewerkt in ronde {edits} van bron {index}.\n\n", 1)
    return page_html(f"{SEED_NAMES[seed]} {index:05d}", notice_html_body(text), seq=fetch * 100_003 + index).encode()


def extracted(job: tuple[int, int, int]) -> tuple[int, int, bytes, object]:
    """One fetch's body and its document (in a worker process, as the spider's extraction pool does)."""
    index, fetch, edit_every = job
    body = body_of(index, fetch, edit_every)
    url = f"http://127.0.0.1:9/privacy/{source_id(index)}"
    return index, fetch, body, extract_document(body, CONTENT_TYPE, language="nl", url=url)


def build(work: Path, bodies: int, sources: int, edit_every: int) -> None:
    """Record `bodies` fetches (round-robin over the sources, a day apart) through record_fetch."""
    work.mkdir(parents=True)
    loaded = load_config(write_config(work, sources))
    engine = open_db(loaded.database_url)
    sync_sources(engine, loaded)
    archive = Archive(loaded.snapshots_dir)
    by_id = {s.id: s for s in loaded.sources}
    jobs = [(n % sources, n // sources, edit_every) for n in range(bodies)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        for done, (index, fetch, body, document) in enumerate(pool.imap(extracted, jobs, chunksize=16), start=1):
            url = f"http://127.0.0.1:9/privacy/{source_id(index)}"
            item = FetchResult(source_id=source_id(index), url=url, final_url=url, status=200, body=body,
                               fetched_at=START + timedelta(days=fetch, seconds=index),
                               headers={"Content-Type": CONTENT_TYPE}, archived=archive.put(body), document=document)
            record_fetch(engine, item, by_id[item.source_id], archive=archive)
            if done % 2000 == 0:
                print(f"  built {done}/{bodies} bodies ({time.perf_counter() - t0:.0f} s)", flush=True)
    engine.dispose()


def archived_bodies(database: Path) -> int:
    """Bodies reextract reads: distinct (source, blob) pairs of accepted fetches."""
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT source_id, blob_sha256 FROM fetch WHERE blob_sha256 "
                          "IS NOT NULL AND outcome IN ('first','changed','unchanged'))").fetchone()[0]


def tree_memory_kib(pid: int) -> tuple[int, int]:
    """Resident memory (RSS) and proportional set size (PSS: pages shared by forked workers counted
    once) of a process and all its descendants, in KiB, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        children.setdefault(int(fields["PPid"]), []).append(int(entry))
    rss = pss = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:
            continue
        values = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in rollup.splitlines()[1:])}
        rss, pss = rss + values.get("Rss", 0), pss + values.get("Pss", 0)
        todo += children.get(current, [])
    return rss, pss


def timed_reextract(config: Path, pythonpath: Path) -> tuple[float, float, tuple[int, int], str]:
    """Wall s, CPU s (child and what it waited for) and peak tree RSS and PSS (KiB) of one `reextract`."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "reextract"],
                             cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]

    def sample() -> None:
        while child.poll() is None:
            rss, pss = tree_memory_kib(child.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    wall = time.perf_counter() - t0
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert child.returncode == 0, err[-3000:]
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, (peak[0], peak[1]), out


def letters(n: int) -> str:
    """`n` as a word of letters (a, b, ..., ba, bb, ...)."""
    word = ""
    while True:
        n, digit = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[digit] + word
        if not n:
            return word


def extraction_ms() -> dict[str, tuple[float, float]]:
    """Best CPU and wall ms per extraction of the Ingram Micro seed page (best of 7 x 30): "again" the
    same page each time (as re-extraction meets a notice's paragraphs again; short texts' normalisation
    is remembered), "fresh" a page whose every line differs each time (nothing remembered helps)."""
    text = seed_texts()["ingram-micro"]
    company = SEED_NAMES["ingram-micro"]
    same = page_html(company, notice_html_body(text)).encode()
    fresh = [page_html(company, notice_html_body(re.sub(r"(?m)^(\S.*)$", rf"\1 {letters(n)}", text))).encode()
             for n in range(7 * 30)]  # a word of letters: a digit would wake the page-meta rule in every line
    figures: dict[str, tuple[float, float]] = {}
    for label, bodies in (("again", [same] * (7 * 30)), ("fresh", fresh)):
        best_cpu = best_wall = float("inf")
        for round_ in range(7):
            c0, t0 = time.process_time(), time.perf_counter()
            for body in bodies[round_ * 30:(round_ + 1) * 30]:
                extract_document(body, CONTENT_TYPE, language="nl", url="https://www.ingrammicro.com/privacy")
            best_cpu = min(best_cpu, (time.process_time() - c0) / 30 * 1000)
            best_wall = min(best_wall, (time.perf_counter() - t0) / 30 * 1000)
        figures[label] = (best_cpu, best_wall)
    figures["bytes"] = (len(same), len(fresh[0]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000", help="archive sizes (bodies), comma-separated")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--edit-every", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2, help="timed runs per size and code")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/nw-reextract-cache"))
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to compare (its code)")
    args = parser.parse_args()

    codes = {"this": REPO} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    rows: list[tuple[str, int, int, float, float, tuple[int, int]]] = []
    for size in [int(s) for s in args.sizes.split(",")]:
        built = args.cache / f"b{size}-s{args.sources}-e{args.edit_every}"
        if not (built / "noticewatch.db").exists():
            shutil.rmtree(built, ignore_errors=True)
            print(f"building an archive of {size} bodies over {args.sources} sources in {built}", flush=True)
            build(built, size, args.sources, args.edit_every)
        bodies = archived_bodies(built / "noticewatch.db")
        for run in range(args.runs):
            for label, code in codes.items():
                work = args.cache / "run"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                shutil.copy(built / "noticewatch.toml", work / "noticewatch.toml")
                shutil.copy(built / "noticewatch.db", work / "noticewatch.db")
                (work / "snapshots").symlink_to(built / "snapshots")  # only read
                wall, cpu, peak, _ = timed_reextract(work / "noticewatch.toml", code)
                rows.append((label, size, bodies, wall, cpu, peak))
                print(f"  {label:<9} run {run + 1}: {bodies} bodies, wall {wall:.1f} s, CPU {cpu:.1f} s, "
                      f"peak RSS {peak[0] // 1024} MiB, PSS {peak[1] // 1024} MiB", flush=True)

    extraction = extraction_ms()
    print(f"\nnoticewatch reextract benchmark: {args.sources} sources, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'code':<10}{'bodies':>8}{'wall s':>9}{'CPU s':>8}{'bodies/s':>10}{'bodies/CPU-s':>14}"
          f"{'peak RSS MiB':>14}{'peak PSS MiB':>14}")
    for label, _, bodies, wall, cpu, (rss, pss) in rows:
        print(f"{label:<10}{bodies:>8}{wall:>9.1f}{cpu:>8.1f}{bodies / wall:>10.0f}{bodies / cpu:>14.0f}"
              f"{rss / 1024:>14.0f}{pss / 1024:>14.0f}")
    for label in ("again", "fresh"):
        cpu_ms, wall_ms = extraction[label]
        print(f"extraction of the Ingram Micro seed page ({int(extraction['bytes'][0])} bytes), {label}, this code: "
              f"{cpu_ms:.2f} ms CPU, {wall_ms:.2f} ms wall (best of 7 x 30)")


if __name__ == "__main__":
    main()
