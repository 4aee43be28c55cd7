"""Review state of changes: who assessed a change, when, with a short note (table `change_review`).

A privacy team reads a change, decides what it means for them, and marks it reviewed, from the
command line (`noticewatch review`), the JSON API or the change's web page. The overview and the
digest then show what is still waiting. One row per change, the latest review wins; no foreign key
to `change`, like `digest_entry`: `reextract` may rebuild the derived tables and keeps the ids of
changes whose texts match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, Text, func
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import as_utc, iso_utc, utcnow
from monitor.store.models import Change

MAX_NOTE, MAX_WHO = 500, 120
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class ChangeReview(SQLModel, table=True):
    """The latest review of one change."""

    __tablename__ = "change_review"

    change_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    reviewed_by: str = Field(max_length=MAX_WHO)
    reviewed_at: datetime = Field(default_factory=utcnow, index=True)
    note: str | None = Field(default=None, sa_column=Column(Text))

    def to_dict(self) -> dict:
        return {"change_id": self.change_id, "reviewed_by": self.reviewed_by,
                "reviewed_at": iso_utc(as_utc(self.reviewed_at)), "note": self.note}


class UnknownChange(LookupError):
    """No change with that id."""


def clean(text: str | None, limit: int) -> str | None:
    """One line of plain text: control characters and bidi overrides out, whitespace collapsed, cut."""
    if text is None:
        return None
    value = " ".join(_CONTROL.sub(" ", text).split())[:limit]
    return value or None


def mark_reviewed(engine: Engine, change_id: int, who: str, note: str | None = None,
                  now: datetime | None = None) -> ChangeReview:
    """Record (or replace) the review of a change; UnknownChange if there is no such change."""
    reviewer = clean(who, MAX_WHO)
    if not reviewer:
        raise ValueError("a review needs a reviewer name")
    with Session(engine, expire_on_commit=False) as session:
        if session.get(Change, change_id) is None:
            raise UnknownChange(change_id)
        review = session.get(ChangeReview, change_id) or ChangeReview(change_id=change_id, reviewed_by=reviewer)
        review.reviewed_by, review.note, review.reviewed_at = reviewer, clean(note, MAX_NOTE), now or utcnow()
        session.add(review)
        session.commit()
        return review


def reviews_for(session: Session, change_ids: Iterable[int]) -> dict[int, ChangeReview]:
    ids = [i for i in change_ids if i is not None]
    if not ids:
        return {}
    return {r.change_id: r for r in session.exec(select(ChangeReview).where(ChangeReview.change_id.in_(ids)))}


def unreviewed_counts(session: Session, source_ids: Iterable[str] | None = None,
                      include_cosmetic: bool = False) -> dict[str, int]:
    """Per source: how many of its changes nobody has reviewed yet (cosmetic-only ones left out)."""
    reviewed = select(ChangeReview.change_id)
    query = (select(Change.source_id, func.count()).where(Change.id.not_in(reviewed))
             .group_by(Change.source_id))
    if not include_cosmetic:
        query = query.where(Change.cosmetic_only.is_(False))
    if source_ids is not None:
        query = query.where(Change.source_id.in_(list(source_ids)))
    return {source: count for source, count in session.exec(query)}
