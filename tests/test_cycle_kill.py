"""Fault tests of issue 16: a `noticewatch run` SIGKILLed at a random point of its cycle loses and doubles
nothing. 20 trials per backend: each edits some notices, starts a cycle, kills it at a random point (start-up,
robots, fetches, confirmations, records), then runs a complete cycle. After every trial the history must
be whole: every notice's latest version is the text the site serves now (nothing lost), versions are
numbered without gaps and no two in a row hold the same text (nothing doubled), every change joins two
consecutive versions, and every fetch's raw body is in the archive under its sha256."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.archive import Archive
from monitor.config import load_config
from monitor.devtools import NoticeSite
from monitor.store import Change, Fetch, Version, open_db
from tests.support import run_cli
from tests.support.cli import REPO

pytestmark = pytest.mark.slow
TRIALS = 20


def _edit(site: NoticeSite, rng: random.Random, trial: int, applied: dict[str, list[str]]) -> None:
    """Change one word in each of one to three notices; the marker makes every edit distinct."""
    for page_id in rng.sample(sorted(site.pages), rng.randint(1, 3)):
        words = [w for w in site.pages[page_id].text.split() if w.isalpha() and len(w) > 6]
        word = rng.choice(words)
        site.edit(page_id, word, f"{word} wijziging-{trial:02d}")
        applied[page_id].append(f"wijziging-{trial:02d}")


def _killed_run(config: Path, site: NoticeSite, rng: random.Random) -> bool:
    """Start a cycle and SIGKILL it at a random point; False if it had finished by then. A quarter of the
    kills land in start-up (0.2-1.5 s after the start); the rest 0-3 s after the site served the cycle's
    first request, so that a slowly starting (loaded) machine still has its cycles killed mid-way."""
    served = len(site.requests)
    child = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if rng.random() < 0.25:
            child.wait(timeout=rng.uniform(0.2, 1.5))
        else:
            started = time.monotonic()
            while len(site.requests) == served and child.poll() is None and time.monotonic() - started < 120:
                time.sleep(0.02)
            child.wait(timeout=rng.uniform(0.0, 3.0))
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        return True
    return False


def _fetch_count(config: Path) -> int:
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        count = len(session.exec(select(Fetch.id)).all())
    engine.dispose()
    return count


def _assert_whole(config: Path, site: NoticeSite, applied: dict[str, list[str]]) -> None:
    loaded = load_config(config)
    archive = Archive(loaded.snapshots_dir)
    engine = open_db(loaded.database_url)
    with Session(engine) as session:
        versions = defaultdict(list)
        for version in session.exec(select(Version).order_by(Version.source_id, Version.number)):
            versions[version.source_id].append(version)
        by_id = {v.id: v for vs in versions.values() for v in vs}
        for page_id in site.pages:
            history = versions[page_id]
            assert [v.number for v in history] == list(range(1, len(history) + 1)), page_id
            assert all(a.text_sha256 != b.text_sha256 for a, b in zip(history, history[1:], strict=False)), page_id
            assert all(edit in history[-1].markdown for edit in applied[page_id]), page_id  # every edit is there
        for change in session.exec(select(Change)):
            old, new = by_id[change.old_version_id], by_id[change.new_version_id]
            assert old.source_id == new.source_id == change.source_id and new.number == old.number + 1
        for fetch in session.exec(select(Fetch).where(Fetch.blob_sha256.is_not(None))):
            assert hashlib.sha256(archive.get(fetch.blob_sha256)).hexdigest() == fetch.blob_sha256
    engine.dispose()


def test_sigkill_at_random_points_of_cycles_loses_and_doubles_nothing(tmp_path, db_url):
    rng = random.Random(1604)
    with NoticeSite() as site:
        config = site.write_config(tmp_path / "noticewatch.toml", database=db_url)
        config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\nconfirm_delay = 0.2\n", 1))
        spread = tmp_path / "spread.toml"  # the killed cycles' fetches spread over ~3 s: one host, 0.4 s apart
        spread.write_text(config.read_text().replace("delay = 0.0", "delay = 0.4"), encoding="utf-8")
        assert run_cli(config, "run").returncode == 0
        applied: dict[str, list[str]] = defaultdict(list)
        killed = mid_cycle = 0
        for trial in range(TRIALS):
            _edit(site, rng, trial, applied)
            before = _fetch_count(config)
            if _killed_run(spread, site, rng):
                killed += 1
                mid_cycle += 0 < _fetch_count(config) - before < len(site.pages)
            complete = run_cli(config, "run")
            assert complete.returncode == 0, (trial, complete.stderr)
            _assert_whole(config, site, applied)
    assert sum(map(len, applied.values())) >= TRIALS
    assert killed >= TRIALS // 2 and mid_cycle >= 2, (killed, mid_cycle)  # the kills landed inside cycles
