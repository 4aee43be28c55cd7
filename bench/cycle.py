"""Cycle benchmark: N seed-derived notices on 127.0.0.x, three cycles, against a bare-fetch floor.

    python bench/cycle.py [--notices 500] [--hosts 25] [--validators]

Serves N notices (the five seeds under distinct company names) from several loopback host names so
per-host politeness does not serialise them, then times, each in a fresh `noticewatch run` process:
  1. a first cycle (every notice new),
  2. an unchanged re-crawl,
  3. a re-crawl with 10 % of the notices edited,
and a bare Scrapy fetch of the same URLs with no processing (the floor of this machine and stack).
By default the pages carry no ETag/Last-Modified, so the unchanged re-crawl downloads and extracts
every page (the worst case); `--validators` lets it use conditional requests instead.
Prints notices/second and CPU seconds/notice (crawler process only) and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.devtools import SEED_NAMES, NoticeSite, SitePage, seed_texts  # noqa: E402

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
p = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": int(sys.argv[2]),
                    "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": True,
                    "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False})
p.crawl(Bare)
p.start()
'''


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    cpu0, t0 = child_cpu(), time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, child_cpu() - cpu0, result


def build_sites(notices: int, hosts: int, validators: bool) -> list[NoticeSite]:
    texts = list(seed_texts().items())
    sites = [NoticeSite(pages={}, host=f"127.0.0.{2 + h}", validators=validators) for h in range(hosts)]
    for i in range(notices):
        seed_id, text = texts[i % len(texts)]
        company = f"{SEED_NAMES[seed_id]} {i:05d}"
        sites[i % hosts].pages[f"n{i:05d}"] = SitePage(company, text)
    return sites


def write_config(path: Path, sites: list[NoticeSite], concurrency: int) -> None:
    lines = ['[storage]', 'snapshots = "snapshots"', "", "[crawl]", "delay = 0", f"concurrency = {concurrency}",
             "retries = 1", ""]
    for site in sites:
        for page_id, page in site.pages.items():
            lines += ["[[source]]", f'id = "{page_id}"', f'name = "{page.company}"',
                      f'url = "{site.url_for(page_id)}"', 'language = "nl"', ""]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--validators", action="store_true", help="serve ETag/Last-Modified")
    args = parser.parse_args()

    sites = build_sites(args.notices, args.hosts, args.validators)
    for site in sites:
        site.start()
    work = Path(tempfile.mkdtemp(prefix="nw-bench-"))
    config = work / "noticewatch.toml"
    write_config(config, sites, args.concurrency)
    urls = work / "urls.txt"
    urls.write_text("\n".join(site.url_for(pid) for site in sites for pid in site.pages))
    run = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--json"]
    rows = []
    try:
        bare_wall, bare_cpu, bare = timed([sys.executable, "-c", BARE_SPIDER, str(urls), str(args.concurrency)],
                                          REPO)
        assert bare.returncode == 0, bare.stderr[-2000:]
        rows.append(("bare fetch (floor)", bare_wall, bare_cpu, None))
        for label in ("first cycle", "unchanged re-crawl", "10% edited re-crawl"):
            if label.startswith("10%"):
                for index, site in enumerate(sites):
                    for n, page in enumerate(site.pages.values()):
                        if (index + n * len(sites)) % 10 == 0:
                            page.text = page.text.replace("persoonsgegevens", "persoonlijke gegevens", 1)
                            page.seq += 1
            wall, cpu, result = timed(run, REPO)
            assert result.returncode == 0, result.stderr[-2000:]
            summary = json.loads(result.stdout)
            rows.append((label, wall, cpu, summary))
    finally:
        for site in sites:
            site.stop()

    n = args.notices
    print(f"noticewatch cycle benchmark: {n} notices on {args.hosts} hosts, concurrency {args.concurrency}, "
          f"validators {'on' if args.validators else 'off'}")
    print(f"{'phase':<24}{'wall s':>8}{'notices/s':>11}{'CPU ms/notice':>15}{'x floor (time)':>16}"
          f"{'x floor (CPU)':>15}  outcome")
    for label, wall, cpu, summary in rows:
        outcome = "" if summary is None else (f"new {summary['new']}, changed {summary['changed']}, "
                                              f"unchanged {summary['unchanged']}, failed {len(summary['failed'])}")
        print(f"{label:<24}{wall:>8.2f}{n / wall:>11.1f}{1000 * cpu / n:>15.2f}{wall / bare_wall:>16.2f}"
              f"{cpu / bare_cpu:>15.2f}  {outcome}")


if __name__ == "__main__":
    main()
