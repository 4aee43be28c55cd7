"""Put a cycle's due sources on the shared frontier, or repair the frontier of a cycle still open.

The database decides: a cycle is open while any of its cycle_item rows is not done. `enqueue`
creates a new cycle only when none is open; otherwise it pushes every undone item Redis does not
hold (waiting or claimed), which rebuilds the frontier after Redis restarted empty. Enqueuers take
a PostgreSQL advisory lock, so two machines never create two cycles or push the same item twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from itertools import zip_longest
from urllib.parse import urlsplit

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.config import LoadedConfig
from monitor.core import utcnow
from monitor.fleet.frontier import Frontier, member
from monitor.store import CrawlCycle, CycleItem, advisory_lock, session_scope, sync_sources

ENQUEUE_LOCK = "noticewatch.enqueue"


@dataclass
class EnqueueResult:
    """What one `enqueue` did."""

    cycle_id: str
    created: bool
    sources: int
    done: int
    pushed: int

    def line(self) -> str:
        verb = "enqueued new" if self.created else "repaired open"
        return (f"{verb} cycle {self.cycle_id}: {self.sources} sources, {self.done} done, "
                f"{self.pushed} put on the frontier")


def interleave_hosts(source_hosts: list[tuple[str, str]]) -> list[str]:
    """Order sources round-robin over their hosts, so workers start on many hosts at once."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for source_id, host in source_hosts:
        by_host[host].append(source_id)
    return [sid for group in zip_longest(*by_host.values()) for sid in group if sid is not None]


def _open_cycle_ids(session: Session) -> list[str]:
    rows = session.exec(select(CycleItem.cycle_id).where(CycleItem.done_at.is_(None)).distinct())
    ids = list(rows)
    created = {c.id: c.created_at for c in session.exec(select(CrawlCycle).where(CrawlCycle.id.in_(ids)))}
    return sorted(ids, key=lambda cid: created.get(cid) or utcnow())


def _close_finished(session: Session) -> None:
    done = select(CycleItem.cycle_id).where(CycleItem.done_at.is_(None))
    session.connection().execute(update(CrawlCycle).where(CrawlCycle.finished_at.is_(None),
                                                          CrawlCycle.id.not_in(done))
                                 .values(finished_at=utcnow()))


def enqueue(engine: Engine, loaded: LoadedConfig, frontier: Frontier,
            source_ids: list[str] | None = None) -> EnqueueResult:
    """Create the next cycle (all or the named sources), or repair the open one; push to Redis."""
    sync_sources(engine, loaded)
    hosts = {s.id: (urlsplit(s.start_url).hostname or "") for s in loaded.sources}
    with advisory_lock(engine, ENQUEUE_LOCK):
        with session_scope(engine) as session:
            _close_finished(session)
            open_ids = _open_cycle_ids(session)
            created = not open_ids
            if created:
                cycle_id = uuid.uuid4().hex[:12]
                ids = [s.id for s in loaded.config.sources_named(source_ids)]
                session.add(CrawlCycle(id=cycle_id, enqueued_by=f"{socket.gethostname()}:{os.getpid()}",
                                       sources=len(ids)))
                session.flush()
                session.add_all(CycleItem(cycle_id=cycle_id, source_id=sid) for sid in ids)
                open_ids = [cycle_id]
        with Session(engine) as session:
            undone = list(session.exec(select(CycleItem.cycle_id, CycleItem.source_id)
                                       .where(CycleItem.done_at.is_(None), CycleItem.cycle_id.in_(open_ids))))
            cycle_id = open_ids[0]
            total = session.exec(select(func.count()).select_from(CycleItem)
                                 .where(CycleItem.cycle_id.in_(open_ids))).one()
        present = frontier.present()
        missing: dict[str, list[str]] = defaultdict(list)
        for cid, sid in undone:
            if member(cid, sid) not in present:
                missing[cid].append(sid)
        pushed = 0
        for cid in open_ids:
            order = interleave_hosts([(sid, hosts.get(sid, "")) for sid in missing.get(cid, [])])
            pushed += frontier.push(member(cid, sid) for sid in order)
    return EnqueueResult(cycle_id=cycle_id, created=created, sources=total, done=total - len(undone), pushed=pushed)
