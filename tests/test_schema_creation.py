"""Schema creation is atomic and single (issue 16): five `noticewatch run`s started together on a new
database all succeed or exit 75; a process SIGKILLed at a random point of new-database creation
leaves a database the next run uses (or `db upgrade` repairs); a half-made database from before the
fix (revision stamped, tables missing) is named in one line and repaired by `db upgrade`."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlmodel import Session, select

from monitor.devtools.site import NoticeSite
from monitor.store.db import open_db
from monitor.store.models import Version
from monitor.store.schema import schema_diff
from tests.support import run_cli
from tests.support.cli import REPO
from tests.support.databases import fresh_postgres

EXIT_BUSY, EXIT_STORAGE = 75, 3


def _config(tmp_path: Path, db_url: str, site: NoticeSite, name: str = "noticewatch.toml") -> Path:
    path = tmp_path / name
    sources = "".join(f'[[source]]\nid = "{pid}"\nname = "{p.company}"\nurl = "{site.url_for(pid)}"\n\n'
                      for pid, p in list(site.pages.items())[:2])
    path.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                    f"[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\n\n{sources}", encoding="utf-8")
    return path


def _complete(db_url: str) -> bool:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return "alembic_version" in inspect(conn).get_table_names() and not schema_diff(conn)
    finally:
        engine.dispose()


def test_five_runs_started_together_on_a_new_database(tmp_path, db_url, site):
    config = _config(tmp_path, db_url, site)
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(5)]
    results = [(p.wait(timeout=240), p.stderr.read()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    assert all(code in (0, EXIT_BUSY) for code, _ in results), results
    assert any(code == 0 for code, _ in results)
    engine = open_db(db_url)
    with Session(engine) as session:
        versions = session.exec(select(Version)).all()
    engine.dispose()
    assert sorted(v.source_id for v in versions) == sorted(list(site.pages)[:2])  # each crawled once


CREATE = "import sys; from monitor.store.db import open_db; print('go', flush=True); open_db(sys.argv[1])"


def _kill_during_creation(db_url: str, delay: float) -> None:
    child = subprocess.Popen([sys.executable, "-c", CREATE, db_url], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    assert child.stdout.readline().strip() == "go"
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    child.stdout.close()


@pytest.mark.slow
def test_sigkill_at_random_points_of_creation_leaves_a_usable_database(tmp_path, db_url, site):
    """20 trials: kill the creating process 0-250 ms in (creation takes ~150 ms), then run."""
    rng = random.Random(16)
    outcomes: dict[str, int] = {}
    with contextlib.ExitStack() as stack:  # the trials' PostgreSQL databases are dropped at the end
        for trial in range(20):
            url = db_url if trial == 0 else _next_database(stack, tmp_path, db_url, trial)
            _kill_during_creation(url, rng.uniform(0.0, 0.25))
            config = _config(tmp_path, url, site, name=f"trial{trial}.toml")
            first = run_cli(config, "run")
            if first.returncode == EXIT_STORAGE and "db upgrade" in first.stderr:
                assert run_cli(config, "db", "upgrade").returncode == 0
                first = run_cli(config, "run")
                outcomes["repaired"] = outcomes.get("repaired", 0) + 1
            else:
                outcomes["ran"] = outcomes.get("ran", 0) + 1
            assert first.returncode == 0, first.stderr
            assert _complete(url)
    assert outcomes == {"ran": 20}  # creation is atomic: never half-made (before: stamped 0001, no tables)


def _next_database(stack: contextlib.ExitStack, tmp_path: Path, db_url: str, trial: int) -> str:
    """Another new database on the test's backend (a PostgreSQL one is dropped when the test ends)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'trial{trial}.db'}"
    return stack.enter_context(fresh_postgres())


def test_half_made_database_is_named_and_repaired_by_db_upgrade(tmp_path, db_url, site):
    engine = create_engine(db_url)
    with engine.begin() as conn:  # what a first run killed before this fix left: stamped, no tables
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001')")
    engine.dispose()
    config = _config(tmp_path, db_url, site)
    refused = run_cli(config, "run")
    assert refused.returncode == EXIT_STORAGE
    assert "half-made" in refused.stderr and "db upgrade" in refused.stderr
    repaired = run_cli(config, "db", "upgrade")
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.splitlines()[0].startswith("repaired a half-made database (revision 0001 stamped")
    assert run_cli(config, "run").returncode == 0
    assert _complete(db_url)
