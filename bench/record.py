"""Writer-thread benchmark (issue 14): what recording one fetch costs, without the crawl around it.

    python bench/record.py [--notices 300] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The crawl's one writer thread archives each body and records each fetch (`record_fetch`); a cycle
is bound by it when those costs add up. This times them apart, in the order the crawl runs them:
for N new notices the archive write (gzip + fsync) and `record_fetch` given the diff a worker
process would have planned (first fetch), then an unchanged cycle of the same bodies (`same_body`,
nothing to parse) and its commit alone, then a cycle whose bodies all differ (a nonce) but whose texts
do not. Prints milliseconds per fetch. With `--postgres` (a server
URL) it runs in a database of its own there, created and dropped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from monitor.archive import Archive  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.core import FetchResult  # noqa: E402
from monitor.devtools import SEED_NAMES, notice_html_body, page_html, seed_texts  # noqa: E402
from monitor.extract import extract_document, text_sha256  # noqa: E402
from monitor.store import PlannedDiff, derive_columns, open_db, plan_diff, record_fetch, sync_sources  # noqa: E402


def bodies(n: int) -> dict[str, bytes]:
    texts = list(seed_texts().items())
    return {f"n{i:05d}": page_html(f"{SEED_NAMES[seed][0:40]} {i:05d}", notice_html_body(text)).encode()
            for i, (seed, text) in ((i, texts[i % len(texts)]) for i in range(n))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=300)
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.postgres is None:
        run(args.notices, None)
        return
    admin = create_engine(make_url(args.postgres), isolation_level="AUTOCOMMIT")
    name = f"nwbench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(args.notices, make_url(args.postgres).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(notices: int, database: str | None) -> None:
    """Time the writer's work for `notices` notices on `database` (default: a fresh SQLite file)."""
    work = Path(tempfile.mkdtemp(prefix="nw-record-"))
    pages = bodies(notices)
    url = database or f"sqlite:///{work / 'nw.db'}"
    lines = ["[storage]", 'snapshots = "snapshots"', f'database = "{url}"', ""]
    for sid in pages:
        lines += ["[[source]]", f'id = "{sid}"', f'name = "{sid}"', f'url = "http://127.0.0.1/{sid}"',
                  'language = "nl"', ""]
    (work / "noticewatch.toml").write_text("\n".join(lines))
    loaded = load_config(work / "noticewatch.toml")
    engine = open_db(loaded.database_url)
    sync_sources(engine, loaded)
    archive = Archive(loaded.snapshots_dir)
    sources = {s.id: s for s in loaded.sources}
    commits: list[float] = []
    do_commit = engine.dialect.do_commit

    def timed_commit(dbapi_connection) -> None:
        """The DBAPI commit alone (the engine's dialect instance only: a benchmark probe)."""
        t0 = time.perf_counter()
        do_commit(dbapi_connection)
        commits.append(time.perf_counter() - t0)

    engine.dialect.do_commit = timed_commit

    documents = {sid: extract_document(body, "text/html", language="nl") for sid, body in pages.items()}

    def fetched(sid: str, body: bytes, **fields) -> FetchResult:
        return FetchResult(source_id=sid, url=sources[sid].url, final_url=sources[sid].url, status=200,
                           headers={"Content-Type": "text/html"}, body=body, fetched_at=datetime.now(UTC), **fields)

    put, plan, record_new, record_same = [], [], [], []
    for sid, body in pages.items():
        item = fetched(sid, body, document=documents[sid], text_sha256=text_sha256(documents[sid]))
        t0 = time.perf_counter()
        item.archived = archive.put(body)
        t1 = time.perf_counter()
        job = plan_diff(engine, item, sources[sid])
        t2 = time.perf_counter()
        planned = PlannedDiff(job, derive_columns(job)) if job is not None else None
        t3 = time.perf_counter()
        record_fetch(engine, item, sources[sid], cycle_id="c1", archive=archive, planned=planned)
        t4 = time.perf_counter()
        put.append(t1 - t0)
        plan.append(t2 - t1)
        record_new.append(t4 - t3)
    statements: list[str] = []
    commits.clear()
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for sid, body in pages.items():
        item = fetched(sid, body, same_body=True)
        item.archived = archive.put(body)
        t0 = time.perf_counter()
        record_fetch(engine, item, sources[sid], cycle_id="c2", archive=archive)
        record_same.append(time.perf_counter() - t0)
    per_same = len(statements) / len(pages)
    same_commits = list(commits)
    record_nonce: list[float] = []
    for sid, body in pages.items():  # bytes differ (a nonce), text does not: the body is new, the text is not
        noisy = body.replace(b"</head>", f"<script>n='{uuid.uuid4().hex}'</script></head>".encode(), 1)
        item = fetched(sid, noisy, document=documents[sid], text_sha256=text_sha256(documents[sid]),
                       text_moved=False)
        item.archived = archive.put(noisy)
        t0 = time.perf_counter()
        record_fetch(engine, item, sources[sid], cycle_id="c3", archive=archive)
        record_nonce.append(time.perf_counter() - t0)

    def ms(values: list[float]) -> str:
        return f"mean {1000 * statistics.fmean(values):6.2f}  median {1000 * statistics.median(values):6.2f}"

    print(f"record benchmark: {len(pages)} notices, {engine.url.get_backend_name()}")
    print(f"  archive put, new body      {ms(put)} ms")
    print(f"  plan_diff (read)           {ms(plan)} ms")
    print(f"  record_fetch, new notice   {ms(record_new)} ms")
    print(f"  record_fetch, unchanged    {ms(record_same)} ms  ({per_same:.1f} statements per fetch)")
    print(f"    of which the commit      {ms(same_commits)} ms")
    print(f"  record_fetch, new body, same text {ms(record_nonce)} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
