"""Persistent is real: a text held back as suspicious that keeps coming back becomes the version;
a page that flips between two texts is shown as alternating instead of reported on every flip.

Both are read from the source's standing row (monitor/source_status.py):

- `held_*`: the hash of the suspicious text held back, how many fetches in a row returned it and
  in which cycles. After `PERSIST_FETCHES` fetches over at least `PERSIST_CYCLES` cycles it is the
  new version, flagged `shortened` (it lost text) or `replaced` (an error page, a wall, ...).
- `alternating_json`: the two texts a page alternates between, once it has switched A → B → A
  and then to B again. The first switch and the switch back (a real revert) are reported; from
  then on a switch between the two is not, until a third text appears.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from monitor.core import Document
from monitor.diff import Site, masked_sha256
from monitor.extract import text_sha256
from monitor.store.models import Version
from monitor.store.standing import SourceStatus, status_row

PERSIST_FETCHES = 3
PERSIST_CYCLES = 2


def hold_suspicious(session: Session, source_id: str, document: Document | None, reason: str, fetches: int,
                    cycle_key: str) -> dict | None:
    """Count one more suspicious fetch of this text; the persisted facts once it has persisted, else None."""
    row = status_row(session, source_id)
    if document is None or not document.blocks:
        row.held_sha256, row.held_fetches, row.held_cycles_json = None, 0, None
        return None
    digest = text_sha256(document)
    if row.held_sha256 == digest:
        cycles = set(json.loads(row.held_cycles_json or "[]")) | {cycle_key}
        row.held_fetches += fetches
    else:
        cycles, row.held_sha256, row.held_fetches = {cycle_key}, digest, fetches
    row.held_cycles_json = json.dumps(sorted(cycles))
    if row.held_fetches < PERSIST_FETCHES or len(cycles) < PERSIST_CYCLES:
        return None
    flag = "shortened" if reason.startswith("lost ") else "replaced"
    facts = {"flag": flag, "reason": reason, "fetches": row.held_fetches, "cycles": len(cycles)}
    release_held(row)
    return facts


def release_held(row: SourceStatus) -> None:
    """A good fetch (or a recorded one) ends the run of suspicious fetches."""
    row.held_sha256, row.held_fetches, row.held_cycles_json = None, 0, None


def _recent(session: Session, source_id: str, sites: Sequence[Site]) -> list[tuple[int, str]]:
    """The last three versions' numbers and masked hashes, newest first; none while there are fewer (then
    no alternation can start, and hashing their texts would be wasted)."""
    rows = session.exec(select(Version).where(Version.source_id == source_id)
                        .order_by(Version.number.desc()).limit(3)).all()
    if len(rows) < 3:
        return []
    return [(v.number, masked_sha256(Document.from_json(v.document_json), sites)) for v in rows]


def alternation(session: Session, source_id: str, document: Document, sites: Sequence[Site],
                when: datetime) -> bool:
    """True when this text is one of the two a page alternates between (then it is not a new change).

    Alternation starts when the versions read A, B, A and the page shows B again; a third text ends it."""
    row = status_row(session, source_id)
    if row.alternating_json:
        known = json.loads(row.alternating_json)
        if masked_sha256(document, sites) in known["hashes"]:
            return True
        row.alternating_json, row.alternating_since = None, None
        return False
    recent = _recent(session, source_id, sites)
    if recent and starts_alternation(masked_sha256(document, sites), [h for _, h in recent]):
        (n, a), (m, b), _ = recent
        row.alternating_json = json.dumps({"hashes": [a, b], "versions": sorted([n, m])})
        row.alternating_since = when
        return True
    return False


def starts_alternation(digest: str, recent: Sequence[str]) -> bool:
    """The rule itself, for recording and for reextract's replay: the last three versions' (masked)
    hashes, newest first, read A, B, A and the page now shows B."""
    if len(recent) < 3:
        return False
    a, b, a_before = recent[:3]
    return digest == b and a == a_before and a != b


def alternating_of(row: SourceStatus | None) -> dict | None:
    """What the notice page and its JSON show: the two versions alternated between, and since when."""
    if row is None or not row.alternating_json:
        return None
    data = json.loads(row.alternating_json)
    return {"versions": data["versions"], "since": row.alternating_since}
