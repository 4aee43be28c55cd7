"""Cycle benchmark (issue 14): N notices, each on its own loopback host, against the floors and a peer.

    python bench/cycle.py [--notices 500] [--hosts N] [--validators] [--urlwatch /tmp/uw/bin/urlwatch]
                          [--skip-reextract] [--delay 1.0] [--phases first,static,nonce,edited] [--repeat 1]

The scale run of issue 14: `--notices 10000 --hosts 1000 --delay 0 --phases first,static --skip-reextract`.

One local HTTP server (listening on every loopback address) serves N notices built from the five seed
notices under distinct company names; notice i lives on its own host 127.x.y.z, so per-host politeness
never serialises them (with `--hosts N`, notice i lives on host i mod N instead). In one invocation,
each system in a fresh process, it times:

  1. curl, 16 transfers in flight: the network floor;
  2. a bare Scrapy spider, 16 in flight, no processing, no robots.txt: the framework floor;
  3. urlwatch with html2text (if installed, e.g. `python3 -m venv /tmp/uw && /tmp/uw/bin/pip install
     urlwatch html2text`), its unchanged second run: a peer;
  4. noticewatch with the defaults of a fresh install: a first cycle, an unchanged cycle of static
     pages, an unchanged cycle where every response carries a fresh nonce in a <script> (bytes
     differ, text does not), and a cycle with 10 % of the notices edited;
  5. `noticewatch reextract` over every archived body of the run (bodies per second, peak RSS).

By default the pages carry no ETag/Last-Modified, so unchanged cycles download every body (the worst
case); `--validators` serves them (unchanged cycles become 304s). Prints wall seconds, CPU ms per
notice (the process and everything it waited for: worker processes included) and the ratios to the
bare Scrapy floor that issue 14 sets targets for, and each phase's peak RSS (its largest process).
With `--repeat K` the floors and the unchanged and edited cycles run K times, interleaved (bare, urlwatch,
static, nonce, edited, then again), and each row is the median of its runs: on a shared machine the
floor itself moves by half between runs, so one run's ratio says little.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.devtools import SEED_NAMES, NoticeSite, SitePage, notice_html_body, page_html, seed_texts  # noqa: E402

BARE_SPIDER = '''
import sys, scrapy
from scrapy.crawler import CrawlerProcess
urls = open(sys.argv[1]).read().split()
class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in urls:
            yield scrapy.Request(url, dont_filter=True)
    def parse(self, response):
        yield {"n": len(response.body)}
p = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                    "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
                    "COOKIES_ENABLED": False})
p.crawl(Bare)
p.start()
'''


def _high_water_kib(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM: its own, not the forking parent's as wait4 says)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """Wall and CPU seconds of a command (from wait4: the CPU counts the processes it waited for, such as
    extraction workers), and the peak RSS in KiB of its main process, read while it runs."""
    peak = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        while os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            peak = max(peak, _high_water_kib(child.pid))
            time.sleep(0.05)
        peak = max(peak, _high_water_kib(child.pid))  # a zombie until reaped: its status is still there
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(cmd, child.returncode, out.read().decode(), err.read().decode())
    return wall, usage.ru_utime + usage.ru_stime, peak, result


def host_of(index: int) -> str:
    """Notice `index`'s own loopback address (127.0.0.1 and the .0/.255 ends left alone)."""
    return f"127.{1 + index // 62500}.{1 + index // 250 % 250}.{1 + index % 250}"


class Pages:
    """The notices: static bytes per page (rendered once), an optional per-request nonce, edits."""

    def __init__(self, notices: int) -> None:
        texts = list(seed_texts().items())
        self.pages: dict[str, SitePage] = {}
        self.texts: dict[str, str] = {}
        for i in range(notices):
            seed_id, text = texts[i % len(texts)]
            page_id = f"n{i:05d}"
            self.texts[page_id] = text
            self.pages[page_id] = SitePage(f"{SEED_NAMES[seed_id]} {i:05d}", text)
            self.render(page_id)

    def render(self, page_id: str) -> None:
        page = self.pages[page_id]
        page.raw = page_html(page.company, notice_html_body(self.texts[page_id])).encode("utf-8")

    def nonces(self, on: bool) -> None:
        def with_nonce(page: SitePage, hit: int) -> bytes:
            nonce = os.urandom(12).hex()
            return page.raw.replace(b"</head>", f'<script nonce="{nonce}">window.__n="{nonce}{hit}";</script>'
                                    f"</head>".encode(), 1)

        for page in self.pages.values():
            page.renderer = with_nonce if on else None

    def edit(self, share: float) -> int:
        edited = 0
        for n, page_id in enumerate(self.pages):
            if n % round(1 / share) == 0:
                self.texts[page_id] = self.texts[page_id].replace("persoonsgegevens", "persoonlijke gegevens", 1)
                self.render(page_id)
                edited += 1
        return edited


def write_config(path: Path, urls: dict[str, str], names: dict[str, str], delay: float | None) -> None:
    lines = ["[storage]", 'snapshots = "snapshots"', 'database = "sqlite:///noticewatch.db"', ""]
    if delay is not None:
        lines += ["[crawl]", f"delay = {delay}", ""]
    for page_id, url in urls.items():
        lines += ["[[source]]", f'id = "{page_id}"', f'name = "{names[page_id]}"', f'url = "{url}"',
                  'language = "nl"', ""]
    path.write_text("\n".join(lines))


def urlwatch_files(work: Path, urls: list[str]) -> list[str]:
    jobs = "\n---\n".join(f"name: n{i}\nurl: {url}\nfilter:\n  - html2text" for i, url in enumerate(urls))
    (work / "uw-urls.yaml").write_text(jobs + "\n")
    (work / "uw-config.yaml").write_text("report:\n  stdout:\n    enabled: false\n  text:\n    details: false\n")
    return ["--urls", str(work / "uw-urls.yaml"), "--config", str(work / "uw-config.yaml"),
            "--cache", str(work / "uw-cache.db")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=500)
    parser.add_argument("--validators", action="store_true", help="serve ETag/Last-Modified")
    parser.add_argument("--urlwatch", default="/tmp/uw/bin/urlwatch", help="urlwatch executable (own venv)")
    parser.add_argument("--delay", type=float, default=None, help="[crawl] delay (default: a fresh install's)")
    parser.add_argument("--skip-reextract", action="store_true")
    parser.add_argument("--hosts", type=int, default=None, help="loopback hosts (default: one per notice)")
    parser.add_argument("--phases", default="first,static,nonce,edited",
                        help="noticewatch cycles to time, in this order (the first cycle always runs)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each repeatable phase (medians are shown)")
    args = parser.parse_args()
    phases = set(args.phases.split(","))

    n = args.notices
    pages = Pages(n)
    site = NoticeSite(pages=pages.pages, host="0.0.0.0", validators=args.validators)  # noqa: S104 (loopback hosts)
    site.start()
    port = site.base_url.rsplit(":", 1)[1]
    hosts = args.hosts or n
    urls = {page_id: f"http://{host_of(i % hosts)}:{port}/privacy/{page_id}" for i, page_id in enumerate(pages.pages)}
    work = Path(tempfile.mkdtemp(prefix="nw-bench-"))
    config = work / "noticewatch.toml"
    write_config(config, urls, {k: p.company for k, p in pages.pages.items()}, args.delay)
    (work / "urls.txt").write_text("\n".join(urls.values()))
    (work / "curl.cfg").write_text("".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in urls.values()))
    run = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--json"]
    runs: dict[str, list[tuple[float, float, int, str]]] = {}

    def phase(label: str, cmd: list[str], outcome=None) -> None:
        wall, cpu, rss, result = timed(cmd, work)
        assert result.returncode == 0, f"{label}: {result.stderr[-3000:]}"
        runs.setdefault(label, []).append((wall, cpu, rss, outcome(result) if outcome else ""))

    def summary(result: subprocess.CompletedProcess) -> str:
        s = json.loads(result.stdout)
        return f"new {s['new']}, changed {s['changed']}, unchanged {s['unchanged']}, failed {len(s['failed'])}"

    try:
        phase("curl, 16 in flight", ["curl", "--parallel", "--parallel-max", "16", "-s", "-K", str(work / "curl.cfg")])
        uw = [args.urlwatch, *urlwatch_files(work, list(urls.values()))]
        if shutil.which(args.urlwatch) or Path(args.urlwatch).exists():
            subprocess.run(uw, cwd=work, capture_output=True, check=False)  # first run fills its cache
        else:
            uw = []
            print(f"urlwatch not found at {args.urlwatch}: skipped (python3 -m venv /tmp/uw && "
                  "/tmp/uw/bin/pip install urlwatch html2text)")
        phase("noticewatch first cycle", run, summary)
        for _ in range(args.repeat):
            phase("bare Scrapy, 16 in flight", [sys.executable, "-c", BARE_SPIDER, str(work / "urls.txt")])
            if uw:
                phase("urlwatch + html2text, unchanged", uw)
            if "static" in phases:
                phase("noticewatch unchanged, static", run, summary)
            if "nonce" in phases:
                pages.nonces(True)
                phase("noticewatch unchanged, nonce", run, summary)
                pages.nonces(False)
            if "edited" in phases:
                edited = pages.edit(0.1)
                phase(f"noticewatch {edited} edited (10 %)", run, summary)
        if not args.skip_reextract:
            with sqlite3.connect(work / "noticewatch.db") as db:
                bodies = db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT source_id, blob_sha256 FROM fetch WHERE "
                                    "blob_sha256 IS NOT NULL AND outcome IN ('first','changed','unchanged'))"
                                    ).fetchone()[0]
            phase("noticewatch reextract", [sys.executable, "-m", "monitor", "--config", str(config), "reextract"])
            wall, cpu, rss, _ = runs["noticewatch reextract"][0]
            runs["noticewatch reextract"] = [(wall, cpu, rss, f"{bodies} bodies, {bodies / wall:.0f} bodies/s, "
                                                              f"{bodies / cpu:.0f} bodies per CPU-second")]
    finally:
        site.stop()
    report(runs, n, hosts, args)


def report(runs: dict[str, list[tuple[float, float, int, str]]], n: int, hosts: int, args) -> None:
    """One row per phase: the median run's wall and CPU (of K runs, each median taken on its own)."""
    rows = []
    for label, results in runs.items():
        wall, cpu = statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)
        rows.append((label, wall, cpu, max(r[2] for r in results), results[-1][3], len(results)))
    rows.sort(key=lambda row: row[0].startswith("noticewatch"))  # the floors and the peer first
    bare = next(r for r in rows if r[0].startswith("bare"))
    print(f"noticewatch cycle benchmark: {n} notices on {hosts} loopback hosts, {os.cpu_count()} cores, "
          f"validators {'on' if args.validators else 'off'}, load average {os.getloadavg()[0]:.1f}, "
          f"medians of {args.repeat} run(s) where repeated")
    print(f"{'system / phase':<34}{'runs':>5}{'wall s':>8}{'CPU ms/notice':>15}{'wall x bare':>13}{'CPU x bare':>12}"
          f"{'peak RSS MiB':>14}  outcome")
    for label, wall, cpu, rss, outcome, count in rows:
        print(f"{label:<34}{count:>5}{wall:>8.2f}{1000 * cpu / n:>15.2f}{wall / bare[1]:>13.2f}{cpu / bare[2]:>12.2f}"
              f"{rss / 1024:>14.0f}  {outcome}")
    if args.repeat > 1:
        print("each run, wall s / CPU s:")
        for label, results in runs.items():
            if len(results) > 1:
                print(f"  {label:<32}" + "  ".join(f"{w:.2f}/{c:.2f}" for w, c, _, _ in results))


if __name__ == "__main__":
    main()
