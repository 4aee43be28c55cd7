"""migrate-storage: a SQLite installation with history moves to PostgreSQL + a shared snapshot directory.

The copy is interrupted half-way for real (a lock on the target's `version` table stops its inserts there,
then it is SIGKILLed) and resumed; `changes --json` must then read the same from PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from sqlalchemy import func, select, text
from sqlmodel import Session

from monitor.archive.blobs import Archive
from monitor.store.db import open_db
from monitor.store.models import Blob, Fetch, Version
from tests.support import REPO, fresh_postgres, run_cli, wait_for

EDIT_OLD = "In het algemeen gebruiken we persoonlijke gegevens om onze producten en diensten te leveren"
EDIT_NEW = "In het algemeen verkopen we persoonlijke gegevens om onze producten te leveren"


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).scalar_one()


def test_migrate_storage_interrupted_and_resumed_gives_the_same_changes(site, tmp_path):
    config = site.write_config(tmp_path / "noticewatch.toml", database=f"sqlite:///{tmp_path / 'nw.db'}")
    assert run_cli(config, "run").returncode == 0
    site.edit("partners4it", EDIT_OLD, EDIT_NEW)
    assert run_cli(config, "run").returncode == 0
    before = run_cli(config, "changes", "--json")
    assert before.returncode == 0 and json.loads(before.stdout)["changes"], before.stdout
    source = open_db(f"sqlite:///{tmp_path / 'nw.db'}")
    shared = tmp_path / "shared-snapshots"

    with fresh_postgres() as pg_url:
        target = open_db(pg_url)
        blocker = target.connect()
        blocker.execute(text("LOCK TABLE version IN SHARE MODE"))
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "migrate-storage",
                                 "--to", pg_url, "--snapshots", str(shared), "--batch-size", "1"],
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: _count(target, Fetch) == _count(source, Fetch), 60, "fetch rows copied")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        blocker.rollback()
        blocker.close()
        assert _count(target, Version) == 0 < _count(target, Blob)

        resumed = run_cli(config, "migrate-storage", "--to", pg_url, "--snapshots", str(shared))
        assert resumed.returncode == 0, resumed.stderr
        assert "version: " in resumed.stdout and "verified" in resumed.stdout
        assert f"fetch: {_count(source, Fetch)} rows (0 copied now)" in resumed.stdout

        moved = site.write_config(tmp_path / "moved.toml", database=pg_url, snapshots=str(shared))
        after = run_cli(moved, "changes", "--json")
        assert after.returncode == 0, after.stderr
        assert after.stdout == before.stdout
        assert Archive(shared).blob_count() == _count(source, Blob)

        again = run_cli(config, "migrate-storage", "--to", pg_url, "--snapshots", str(shared))
        assert again.returncode == 0 and "(0 copied now)" in again.stdout
        assert "(1 copied now)" not in again.stdout and "0 files verified" not in again.stdout

        # history continues in the new place: a third cycle numbers versions on from the copied ones
        site.edit("partners4it", EDIT_NEW, EDIT_OLD)
        assert run_cli(moved, "run").returncode == 0
        history = json.loads(run_cli(moved, "history", "partners4it", "--json").stdout)
        assert [v["version"] for v in history["versions"]] == [1, 2, 3]
        target.dispose()
    source.dispose()


def test_migrate_storage_refuses_a_target_in_use(site, tmp_path):
    with fresh_postgres() as pg_url:
        other = site.write_config(tmp_path / "other.toml", database=pg_url, snapshots=str(tmp_path / "o"))
        assert run_cli(other, "run", "--source", "ismt").returncode == 0
        config = site.write_config(tmp_path / "noticewatch.toml", database=f"sqlite:///{tmp_path / 'nw.db'}")
        assert run_cli(config, "run", "--source", "cetit").returncode == 0
        result = run_cli(config, "migrate-storage", "--to", pg_url)
        assert result.returncode == 3
        assert result.stderr.count("\n") == 1 and "not from this installation" in result.stderr
        target = open_db(pg_url)
        with Session(target) as session:
            assert session.exec(select(Fetch.source_id)).scalars().all() == ["ismt"]  # left as it was
        target.dispose()
