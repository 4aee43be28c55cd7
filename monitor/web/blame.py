"""Clause history ("blame"): for each clause of a version, the version since which it has stood.

Walks the versions of a source in order and aligns each with the one before (blocks compared by
kind and text, in order, as the differ does). A block equal to one in the previous version keeps
that block's origin; a block whose exact text stood elsewhere in the previous version moved and
keeps its origin too; anything else was introduced by this version. Versions never change once
written, so results are cached per lineage (ids and text hashes of the versions up to this one,
which `reextract` would change).
"""

from __future__ import annotations

import difflib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel import Session, select

from monitor.core import Block, Document
from monitor.store import Change, Version


@dataclass(frozen=True)
class Origin:
    """Where a clause came from: the version (number) that introduced it and the change (if any)."""

    version: int
    change_id: int | None


Key = tuple[str, str]

_cache: OrderedDict[tuple, list[Origin]] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 256


def _key(block: Block) -> Key:
    return (block.kind, block.text)


def carry_origins(old: list[Key], old_origins: list[Origin], new: list[Key], introduced: Origin) -> list[Origin]:
    """Origins of `new` blocks given the previous version's blocks and their origins."""
    origins: list[Origin | None] = [None] * len(new)
    matched_old: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            origins[block.b + offset] = old_origins[block.a + offset]
            matched_old.add(block.a + offset)
    leftovers: dict[Key, list[int]] = {}
    for index, key in enumerate(old):
        if index not in matched_old:
            leftovers.setdefault(key, []).append(index)
    for index, key in enumerate(new):
        if origins[index] is None:
            spare = leftovers.get(key)
            origins[index] = old_origins[spare.pop(0)] if spare else introduced
    return origins  # type: ignore[return-value]


def _compute(session: Session, source_id: str, upto: int) -> list[Origin]:
    rows = session.exec(select(Version.id, Version.number, Version.document_json)
                        .where(Version.source_id == source_id, Version.number <= upto)
                        .order_by(Version.number)).all()
    change_of = dict(session.exec(select(Change.new_version_id, Change.id)
                          .where(Change.source_id == source_id)).all())
    keys: list[Key] = []
    origins: list[Origin] = []
    for version_id, number, document_json in rows:
        new_keys = [_key(b) for b in Document.from_json(document_json).blocks]
        introduced = Origin(number, change_of.get(version_id))
        origins = carry_origins(keys, origins, new_keys, introduced)
        keys = new_keys
    return origins


def clause_origins(session: Session, version: Version) -> list[Origin]:
    """The origin of every block of `version`, in block order."""
    lineage = session.exec(select(Version.id, Version.text_sha256)
                           .where(Version.source_id == version.source_id, Version.number <= version.number)
                           .order_by(Version.number)).all()
    cache_key = (version.source_id, tuple(lineage))
    with _cache_lock:
        if cache_key in _cache:
            _cache.move_to_end(cache_key)
            return _cache[cache_key]
    origins = _compute(session, version.source_id, version.number)
    with _cache_lock:
        _cache[cache_key] = origins
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return origins
