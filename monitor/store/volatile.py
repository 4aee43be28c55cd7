"""Per-source memory of volatile sites (monitor/volatile.py): learned when two fetches moments apart
differ, used by every later cycle to mask without an extra request, forgotten once the value under
a site has stood still for `STABLE_AFTER` fetches in a row (the page stopped varying there).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, bindparam
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import Document, utcnow
from monitor.diff import Site, site_values

STABLE_AFTER = 3


class VolatileSite(SQLModel, table=True):
    """One place in a source's text where the page varies per request."""

    __tablename__ = "volatile_site"
    __table_args__ = (UniqueConstraint("source_id", "site_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True, max_length=80)
    site_key: str = Field(max_length=64)
    left_json: str = Field(sa_column=Column(Text, nullable=False))
    right: str = Field(sa_column=Column(Text, nullable=False))
    max_len: int = 1
    digits: bool = False
    last_value: str | None = Field(default=None, sa_column=Column(Text))
    stable_count: int = 0
    learned_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def _key(site: Site) -> str:
    return hashlib.sha256(json.dumps([*site.left, site.right], ensure_ascii=False).encode("utf-8")).hexdigest()


def _site(row: VolatileSite) -> Site:
    left = json.loads(row.left_json)
    return Site((left[0], left[1]), row.right, row.max_len, row.digits)


def sites_by_source(session: Session) -> dict[str, list[Site]]:
    """Every source's volatile sites in one query (a cycle reads them all at once)."""
    found: dict[str, list[Site]] = {}
    for row in session.exec(select(VolatileSite).order_by(VolatileSite.id)).all():
        found.setdefault(row.source_id, []).append(_site(row))
    return found


_SITES_OF_SOURCE = (select(VolatileSite).where(VolatileSite.source_id == bindparam("source_id"))
                    .order_by(VolatileSite.id))


def site_rows(session: Session, source_id: str) -> list[VolatileSite]:
    """A source's volatile sites as rows, oldest first (recording reads them once, to mask and to follow)."""
    return list(session.exec(_SITES_OF_SOURCE, params={"source_id": source_id}).all())


def sites_of(rows: Iterable[VolatileSite]) -> list[Site]:
    return [_site(row) for row in rows]


def load_sites(session: Session, source_id: str) -> list[Site]:
    return sites_of(site_rows(session, source_id))


def remember_sites(session: Session, source_id: str, learned: Iterable[Site], document: Document,
                   when: datetime | None = None, rows: Iterable[VolatileSite] | None = None) -> None:
    """Store newly learned sites and follow the known ones: a site whose value did not change for
    `STABLE_AFTER` fetches is dropped, so the page is compared as it is again there. `rows` are the
    source's site rows when the caller read them already (`site_rows`)."""
    when = when or utcnow()
    if rows is None:
        rows = site_rows(session, source_id)
    rows = {row.site_key: row for row in rows}
    for site in learned:
        row = rows.get(_key(site))
        if row is None:
            row = rows[_key(site)] = VolatileSite(
                source_id=source_id, site_key=_key(site), left_json=json.dumps(list(site.left), ensure_ascii=False),
                right=site.right, max_len=site.max_len, digits=site.digits, learned_at=when)
        else:
            row.max_len, row.digits = max(row.max_len, site.max_len), row.digits and site.digits
        row.stable_count = -1  # it varied just now
    if not rows:
        return  # nothing learned, nothing known: no work on the common path
    values = site_values(document, [_site(row) for row in rows.values()])
    for row in rows.values():
        value = values.get(_site(row).key)
        varied = row.stable_count < 0 or (value is not None and value != row.last_value)
        row.stable_count = 0 if varied else row.stable_count + 1
        row.last_value, row.updated_at = value, when
        if row.stable_count >= STABLE_AFTER and row.id is not None:
            session.delete(row)
        else:
            session.add(row)
