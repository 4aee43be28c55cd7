"""What the fleet is doing: workers seen recently, frontier length, open cycles, pace, failing hosts.

One dict, shared by `noticewatch fleet`, a `status` command and the web overview; the database
figures work without Redis (then the Redis part says why it is missing).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.config import LoadedConfig
from monitor.core import utcnow
from monitor.fleet.frontier import Frontier, redis_error
from monitor.store import CycleItem, Fetch

PACE_WINDOW = timedelta(minutes=5)
FAILURE_WINDOW = timedelta(hours=24)


def fleet_status(engine: Engine, loaded: LoadedConfig) -> dict:
    """The fleet's state as a JSON-ready dict (schema `noticewatch.fleet/1`)."""
    now = utcnow()
    with Session(engine) as session:
        recent = session.exec(select(func.count()).select_from(Fetch)
                              .where(Fetch.fetched_at >= now - PACE_WINDOW)).one()
        failed_urls = session.exec(select(Fetch.url).where(Fetch.outcome == "failed",
                                                           Fetch.fetched_at >= now - FAILURE_WINDOW))
        failures = Counter(urlsplit(url).hostname or "?" for url in failed_urls)
        progress = session.exec(select(CycleItem.cycle_id, func.count(), func.count(CycleItem.done_at))
                                .group_by(CycleItem.cycle_id)
                                .having(func.count(CycleItem.done_at) < func.count()))
        open_cycles = [{"cycle_id": cid, "sources": total, "done": done} for cid, total, done in progress]
    status: dict = {
        "schema": "noticewatch.fleet/1",
        "fetches_per_minute": round(recent / (PACE_WINDOW.total_seconds() / 60), 1),
        "failures_per_domain": dict(failures.most_common()),
        "open_cycles": open_cycles,
        "frontier": None,
        "workers": [],
    }
    if loaded.config.frontier is not None:
        frontier = Frontier.from_config(loaded.config.frontier)
        try:
            status["frontier"] = {"waiting": frontier.waiting(), "claimed": frontier.claimed()}
            status["workers"] = frontier.workers()
        except redis_error() as exc:
            status["frontier"] = {"error": f"redis unavailable: {exc}"}
    return status


def status_lines(status: dict) -> list[str]:
    """The same, for people."""
    lines = []
    frontier = status["frontier"]
    if frontier is None:
        lines.append("frontier: none configured (single-process mode)")
    elif "error" in frontier:
        lines.append(f"frontier: {frontier['error']}")
    else:
        lines.append(f"frontier: {frontier['waiting']} waiting, {frontier['claimed']} claimed by workers")
        lines.append(f"workers seen in the last 2 minutes: {len(status['workers'])}")
        for worker in status["workers"]:
            lines.append(f"  {worker['id']}: {worker.get('in_flight', 0)} in flight, "
                         f"{worker.get('fetched', 0)} fetched")
    for cycle in status["open_cycles"]:
        lines.append(f"open cycle {cycle['cycle_id']}: {cycle['done']} of {cycle['sources']} done")
    lines.append(f"fetches per minute (last 5 minutes): {status['fetches_per_minute']}")
    if status["failures_per_domain"]:
        lines.append("failures per domain (last 24 hours):")
        lines += [f"  {host}: {count}" for host, count in status["failures_per_domain"].items()]
    return lines
