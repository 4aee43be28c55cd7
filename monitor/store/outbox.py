"""The digest outbox: every e-mail is composed once, stored, then sent; state lives in the database.

Tables:
- `digest_message`: one composed e-mail (the exact bytes to send, its Message-ID) and its delivery
  state `composed` → `sending` → `sent`. A failed attempt goes back to `composed` with the error and
  a later `next_attempt_at` (exponential backoff); nothing is ever dropped. An attempt whose outcome
  is unknown (no reply after the end of DATA) goes to `uncertain` and is treated like a `sending`
  message whose sender died: resent, same bytes and Message-ID, only after `sending_lease`.
- `digest_entry`: which change went into which message, unique per (subscription, change): a
  change is in exactly one digest per subscription, enforced by the database.
- `digest_subscription`: per subscription, since when its changes count and the last schedule
  slot it was composed for.

The state transitions are conditional UPDATEs (compare-and-set on state and attempt count), so two
senders running at once never both claim a message. The rule for a message found in `sending`
is in docs/digest.md: once its lease has run out it is sent again with the same Message-ID.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Column, Text, UniqueConstraint, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import as_utc, utcnow

COMPOSED, SENDING, UNCERTAIN, SENT = "composed", "sending", "uncertain", "sent"
MAX_BACKOFF = timedelta(hours=6)




class DigestMessage(SQLModel, table=True):
    """One composed digest e-mail and where it is on its way to the recipients."""

    __tablename__ = "digest_message"

    id: int | None = Field(default=None, primary_key=True)
    subscription: str = Field(index=True, max_length=80)
    # How it leaves (see monitor/digest/channels.py): "email" through SMTP, "notify" through Apprise
    # to the subscription URL whose `target_key` is `target` (the URL itself holds secrets).
    channel: str = Field(default="email", max_length=16)
    target: str | None = Field(default=None, max_length=64)
    message_id: str = Field(unique=True, max_length=250)
    state: str = Field(default=COMPOSED, index=True, max_length=16)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    sender: str = Field(sa_column=Column(Text, nullable=False))
    recipients_json: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    change_count: int = 0
    failing_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    slot_at: datetime | None = None
    composed_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    uncertain_attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sending_since: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    refused_json: str | None = Field(default=None, sa_column=Column(Text))

    @property
    def recipients(self) -> list[str]:
        return json.loads(self.recipients_json)

    @property
    def failing(self) -> list[str]:
        return json.loads(self.failing_json)


class DigestEntry(SQLModel, table=True):
    """A change handled by one subscription: in one digest, or skipped as below its minimum significance.

    No foreign key to `change`: `reextract` may rebuild the derived tables.
    """

    __tablename__ = "digest_entry"
    __table_args__ = (UniqueConstraint("subscription", "change_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription: str = Field(max_length=80)
    change_id: int = Field(index=True)
    message_pk: int | None = Field(default=None, foreign_key="digest_message.id", index=True)  # None: skipped


class DigestSubscription(SQLModel, table=True):
    """What the outbox remembers about a configured subscription."""

    __tablename__ = "digest_subscription"

    name: str = Field(primary_key=True, max_length=80)
    since: datetime
    last_slot: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Wait before attempt `attempts + 1`: base, 2×base, 4×base ... capped at six hours."""
    return min(timedelta(seconds=base_seconds * (2 ** max(0, attempts - 1))), MAX_BACKOFF)


def sendable(session: Session, now: datetime, lease_seconds: float, subscription: str | None = None
             ) -> list[DigestMessage]:
    """Messages to (re)try now: composed and due, or `sending`/`uncertain` whose lease ran out."""
    stale = now - timedelta(seconds=lease_seconds)
    query = select(DigestMessage).where(or_(
        (DigestMessage.state == COMPOSED) & (DigestMessage.next_attempt_at <= now),
        DigestMessage.state.in_((SENDING, UNCERTAIN)) & (DigestMessage.sending_since <= stale)))
    if subscription:
        query = query.where(DigestMessage.subscription == subscription)
    return list(session.exec(query.order_by(DigestMessage.id)))


def claim(engine: Engine, message: DigestMessage, now: datetime) -> bool:
    """Take a message for one attempt (compare-and-set); False if another sender took it first.

    The claim is committed before any SMTP traffic: the record says "an attempt may be under way"
    whenever one could be.
    """
    with Session(engine) as session:
        result = session.exec(
            update(DigestMessage)
            .where(DigestMessage.id == message.id, DigestMessage.state == message.state,
                   DigestMessage.attempts == message.attempts)
            .values(state=SENDING, attempts=message.attempts + 1, sending_since=now,
                    uncertain_attempts=message.uncertain_attempts
                    + (1 if message.state in (SENDING, UNCERTAIN) else 0)))
        session.commit()
        return result.rowcount == 1


def mark_sent(engine: Engine, message_pk: int, now: datetime, refused: dict | None = None) -> None:
    with Session(engine) as session:
        session.exec(update(DigestMessage).where(DigestMessage.id == message_pk).values(
            state=SENT, sent_at=now, sending_since=None, last_error=None,
            refused_json=json.dumps(refused, sort_keys=True) if refused else None))
        session.commit()


def mark_failed(engine: Engine, message_pk: int, attempts: int, error: str, now: datetime,
                base_seconds: float) -> datetime:
    """Back to `composed` with the error and the time of the next attempt (returned)."""
    next_at = now + backoff(attempts, base_seconds)
    with Session(engine) as session:
        session.exec(update(DigestMessage).where(DigestMessage.id == message_pk).values(
            state=COMPOSED, sending_since=None, last_error=error[:2000], next_attempt_at=next_at))
        session.commit()
    return next_at


def mark_uncertain(engine: Engine, message_pk: int, error: str, lease_seconds: float) -> datetime:
    """Held as `uncertain` from its claim (`sending_since`) until the lease ends (returned)."""
    with Session(engine) as session:
        session.exec(update(DigestMessage).where(DigestMessage.id == message_pk).values(
            state=UNCERTAIN, last_error=error[:2000]))
        session.commit()
        since = session.exec(select(DigestMessage.sending_since).where(DigestMessage.id == message_pk)).one()
    return as_utc(since) + timedelta(seconds=lease_seconds)


def outbox_messages(session: Session, *, subscription: str | None = None, include_sent: bool = False,
                    limit: int = 100) -> list[DigestMessage]:
    query = select(DigestMessage)
    if subscription:
        query = query.where(DigestMessage.subscription == subscription)
    if not include_sent:
        query = query.where(DigestMessage.state != SENT)
    return list(session.exec(query.order_by(DigestMessage.id.desc()).limit(limit)))


def due_now(engine: Engine, now: datetime, subscriptions: list[str] | None = None) -> int:
    """Make composed messages waiting out their backoff due at `now` (`digest send --now`); returns how many."""
    query = update(DigestMessage).where(DigestMessage.state == COMPOSED, DigestMessage.next_attempt_at > now)
    if subscriptions:
        query = query.where(DigestMessage.subscription.in_(subscriptions))
    with Session(engine) as session:
        count = session.exec(query.values(next_attempt_at=now)).rowcount
        session.commit()
    return count
