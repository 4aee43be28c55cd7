"""Compose due digests into the outbox, then send what the outbox holds: the digest's write side.

`send_due_digests(loaded, engine, now)` is the one entry point for the CLI (`digest send`,
`run --digest`) and the scheduler; `now` is explicit so schedules and retries are testable.

Composition happens once per digest, in one transaction with the `digest_entry` rows that claim
its changes (unique per subscription and change), so a change lands in exactly one digest even
with two senders running. Sending works only from the stored bytes. The delivery rule for a
process killed mid-send is in docs/digest.md.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from monitor.config import ConfigError, LoadedConfig, MailConfig, SubscriptionConfig
from monitor.core import as_utc, iso_utc
from monitor.digest.channels import EMAIL, NOTIFY, Channels, notify_message
from monitor.digest.render import bare_address, build_message, render_chat
from monitor.digest.slots import current_slot, first_since, is_due
from monitor.digest.smtp import DeliveryError, UncertainDelivery
from monitor.digest.view import DigestView, build_digest
from monitor.store import (
    Change,
    DigestEntry,
    DigestMessage,
    DigestSubscription,
    Source,
    Version,
    change_record,
    claim,
    due_now,
    failing_sources,
    mark_failed,
    mark_sent,
    mark_uncertain,
    sendable,
    unreviewed_counts,
)

FAULT_ENV = "NOTICEWATCH_DIGEST_FAULT"  # test hook: SIGKILL this process at a named point
# Without a [mail] table (chat-only subscriptions): MailConfig's defaults for the lease and backoff.
DEFAULT_LEASE = MailConfig.model_fields["sending_lease"].default
DEFAULT_BACKOFF = MailConfig.model_fields["retry_backoff"].default


def _fault_point(name: str) -> None:
    """Die here if the test hook names this point (to prove recovery from a kill at that moment)."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class DigestReport:
    """What one `digest send` did; `lines()` for people, `to_dict()` for tools."""

    composed: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    uncertain: list[dict] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"digest {c['subscription']}: composed {c['message_id']} ({c['changes']} changes, "
               f"{c['failing']} failing notices)" for c in self.composed]
        for s in self.sent:
            line = (f"digest {s['subscription']}: sent {s['message_id']} to {', '.join(s['to'])} "
                    f"(attempt {s['attempt']})")
            if s["uncertain"]:
                line += "; an earlier attempt was interrupted, recipients may see it twice (same Message-ID)"
            if s["refused"]:
                line += "; refused by the server: " + ", ".join(s["refused"])
            out.append(line)
        out += [f"digest {f['subscription']}: not sent (attempt {f['attempt']}): {f['error']}; "
                f"kept in the outbox, next attempt after {f['next_attempt_at']}" for f in self.failed]
        out += [f"digest {u['subscription']}: {u['message_id']} may have been delivered (attempt {u['attempt']}): "
                f"{u['error']}; held until {u['resend_after']}, then sent again with the same Message-ID"
                for u in self.uncertain]
        out += [f"digest {name}: another sender is composing it; skipped" for name in self.busy]
        return out or ["digests: nothing due"]

    def to_dict(self) -> dict:
        return {"composed": self.composed, "sent": self.sent, "failed": self.failed,
                "uncertain": self.uncertain, "busy": self.busy}


def subscriptions_named(loaded: LoadedConfig, names: list[str] | tuple[str, ...] | None) -> list[SubscriptionConfig]:
    subs = list(loaded.config.subscription)
    if not names:
        return subs
    known = {s.name for s in subs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"--subscription: unknown subscription(s): {', '.join(unknown)}")
    return [s for s in subs if s.name in names]


def require_mail(loaded: LoadedConfig) -> MailConfig:
    """The [mail] table, and the password from the environment, or a one-line ConfigError."""
    origin = loaded.path or "noticewatch.toml"
    mail = loaded.config.mail
    if mail is None:
        raise ConfigError(f"{origin}: mail: missing [mail] table (the SMTP server digests are sent through)")
    try:
        mail.smtp_password()
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    return mail


def subscription_sources(loaded: LoadedConfig, sub: SubscriptionConfig) -> list[str]:
    return [s.id for s in loaded.sources if sub.covers(s.id)]


def pending_records(session: Session, sub: SubscriptionConfig, since: datetime) -> list[dict]:
    """Changes of the subscription's sources since `since` that none of its digests has taken."""
    taken = select(DigestEntry.change_id).where(DigestEntry.subscription == sub.name)
    query = (select(Change).where(Change.detected_at >= since, Change.id.not_in(taken))
             .order_by(Change.detected_at, Change.id))
    if sub.sources != "all":
        query = query.where(Change.source_id.in_(list(sub.sources)))
    records = []
    for change in session.exec(query):
        records.append(change_record(change, session.get(Source, change.source_id),
                                     session.get(Version, change.old_version_id),
                                     session.get(Version, change.new_version_id)))
    return records


def _last_failing(session: Session, name: str) -> set[str]:
    last = session.exec(select(DigestMessage).where(DigestMessage.subscription == name)
                        .order_by(DigestMessage.id.desc()).limit(1)).first()
    return set(last.failing) if last else set()


def _templates_dir(loaded: LoadedConfig) -> str | None:
    mail = loaded.config.mail
    return str((Path(loaded.base_dir) / mail.templates).resolve()) if mail and mail.templates else None


def digest_view(session: Session, loaded: LoadedConfig, sub: SubscriptionConfig, now: datetime,
                since: datetime) -> DigestView:
    records = pending_records(session, sub, since)
    failing = failing_sources(session, subscription_sources(loaded, sub), sub.failing_after, now,
                              timedelta(seconds=loaded.config.schedule.stale_after))
    base_url = (loaded.config.mail.base_url if loaded.config.mail else None) or loaded.config.web.base_url
    open_reviews = sum(unreviewed_counts(session, subscription_sources(loaded, sub)).values())
    return build_digest(sub, records, failing, now=now, since=since, base_url=base_url, unreviewed=open_reviews)


# Without any [[subscription]], `digest preview` shows every change so far as this subscription would.
EVERYTHING = SubscriptionConfig(name="everything", to=["preview@noticewatch.invalid"], frequency="immediate",
                                min_significance="minor")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def preview(engine: Engine, loaded: LoadedConfig, sub: SubscriptionConfig, now: datetime) -> EmailMessage:
    """The e-mail the subscription would get now from its pending changes; nothing is recorded.

    `EVERYTHING` (no subscription configured) previews every change ever detected.
    """
    with Session(engine) as session:
        state = session.get(DigestSubscription, sub.name)
        since = EPOCH if sub is EVERYTHING else (as_utc(state.since) if state else first_since(sub, now))
        view = digest_view(session, loaded, sub, now, since)
    return build_message(view, sub, loaded.config.mail, user_dir=_templates_dir(loaded))


def _messages(loaded: LoadedConfig, sub: SubscriptionConfig, view: DigestView, slot: datetime | None,
              now: datetime, failing_ids: list[str]) -> list[DigestMessage]:
    """The outbox rows of one digest: the e-mail (when `to` is set) and one per Apprise URL in `notify`."""
    common = {"subscription": sub.name, "change_count": len(view.change_ids),
              "failing_json": json.dumps(failing_ids), "slot_at": slot, "composed_at": now, "next_attempt_at": now}
    rows = []
    if sub.to:
        message = build_message(view, sub, loaded.config.mail, user_dir=_templates_dir(loaded))
        rows.append(DigestMessage(channel=EMAIL, message_id=message["Message-ID"], subject=str(message["Subject"]),
                                  sender=bare_address(message["From"]),
                                  recipients_json=json.dumps([bare_address(a) for a in sub.to]),
                                  raw=message.as_bytes(policy=SMTP).decode("ascii"), **common))
    if sub.notify:
        title, body = render_chat(view, sub, user_dir=_templates_dir(loaded))
        for url in sub.notify:
            key, shown, raw = notify_message(url, title, body)
            message_id = make_msgid(f"notify.{sub.name}", domain="noticewatch")
            rows.append(DigestMessage(channel=NOTIFY, target=key, message_id=message_id, subject=title, sender="",
                                      recipients_json=json.dumps([shown]), raw=raw, **common))
    return rows


def compose(engine: Engine, loaded: LoadedConfig, sub: SubscriptionConfig, now: datetime) -> dict | None:
    """Compose the subscription's digest into the outbox if it is due and has something to say.

    Something to say: changes at or above `min_significance`; a notice that started failing since
    the last digest; or, with `send_empty`, a scheduled slot without changes. Returns a report row
    or None. Raises IntegrityError when a concurrent sender composed the same changes first.
    """
    with Session(engine, expire_on_commit=False) as session:
        state = session.get(DigestSubscription, sub.name)
        if state is None:
            state = DigestSubscription(name=sub.name, since=first_since(sub, now))
            session.add(state)
        if not is_due(sub, as_utc(state.last_slot), now):
            session.commit()
            return None
        slot = current_slot(sub, now)
        view = digest_view(session, loaded, sub, now, as_utc(state.since))
        failing_ids = [f.source_id for f in view.failing]
        new_failing = set(failing_ids) - _last_failing(session, sub.name)
        row = None
        if view.notices or new_failing or (sub.send_empty and slot is not None):
            rows = _messages(loaded, sub, view, slot, now, failing_ids)
            session.add_all(rows)
            session.flush()
            row = rows[0]  # the entries point at the first; its siblings carry the same digest elsewhere
            session.add_all(DigestEntry(subscription=sub.name, change_id=cid, message_pk=row.id)
                            for cid in view.change_ids)
        session.add_all(DigestEntry(subscription=sub.name, change_id=cid, message_pk=None)
                        for cid in view.skipped_ids)
        state.last_slot = slot if slot is not None else state.last_slot
        session.add(state)
        session.commit()
        if row is None:
            return None
        return {"subscription": sub.name, "message_id": row.message_id, "changes": row.change_count,
                "failing": len(failing_ids)}


def compose_due(engine: Engine, loaded: LoadedConfig, now: datetime, names: list[str] | None = None,
                report: DigestReport | None = None) -> DigestReport:
    report = report or DigestReport()
    for sub in subscriptions_named(loaded, names):
        try:
            row = compose(engine, loaded, sub, now)
        except IntegrityError:
            report.busy.append(sub.name)
            continue
        if row:
            report.composed.append(row)
    return report


def due_subscriptions(loaded: LoadedConfig, engine: Engine, now: datetime) -> list[SubscriptionConfig]:
    """The subscriptions whose schedule says a digest should be composed at `now`."""
    with Session(engine) as session:
        states = {s.name: s for s in session.exec(select(DigestSubscription))}
    return [sub for sub in loaded.config.subscription
            if is_due(sub, as_utc(states[sub.name].last_slot) if sub.name in states else None, now)]


def send_outbox(engine: Engine, loaded: LoadedConfig, now: datetime, names: list[str] | None = None,
                report: DigestReport | None = None, retry_now: bool = False) -> DigestReport:
    """Send every message that is due for an attempt; failures stay in the outbox with backoff.

    `retry_now` (`digest send --now`): messages waiting out their backoff are due at once.
    """
    report = report or DigestReport()
    if retry_now:
        due_now(engine, now, names)
    channels = Channels(loaded, require_mail)
    lease = loaded.config.mail.sending_lease if loaded.config.mail else DEFAULT_LEASE
    wanted = set(names) if names else None
    backoff_base = loaded.config.mail.retry_backoff if loaded.config.mail else DEFAULT_BACKOFF
    with Session(engine) as session:
        candidates = sendable(session, now, lease)
    for message in candidates:
        if wanted is not None and message.subscription not in wanted:
            continue
        uncertain = message.state in ("sending", "uncertain") or message.uncertain_attempts > 0
        if not claim(engine, message, now):
            continue
        attempt = message.attempts + 1
        _fault_point("after_claim")
        try:
            refused = channels[message.channel].deliver(message)
        except UncertainDelivery as exc:
            resend_after = mark_uncertain(engine, message.id, str(exc), lease)
            report.uncertain.append({"subscription": message.subscription, "message_id": message.message_id,
                                     "attempt": attempt, "error": str(exc), "resend_after": iso_utc(resend_after)})
            continue
        except DeliveryError as exc:
            next_at = mark_failed(engine, message.id, attempt, str(exc), now, backoff_base)
            report.failed.append({"subscription": message.subscription, "message_id": message.message_id,
                                  "attempt": attempt, "error": str(exc), "next_attempt_at": iso_utc(next_at)})
            continue
        _fault_point("after_data_accepted")
        mark_sent(engine, message.id, now, refused)
        report.sent.append({"subscription": message.subscription, "message_id": message.message_id,
                            "to": message.recipients, "attempt": attempt, "uncertain": uncertain,
                            "refused": sorted(refused)})
    return report


def send_due_digests(loaded: LoadedConfig, engine: Engine, now: datetime | None = None,
                     names: list[str] | None = None, retry_now: bool = False) -> DigestReport:
    """Compose what is due, then send the outbox (new digests and earlier failures alike)."""
    now = now or datetime.now(UTC)
    if any(sub.to for sub in subscriptions_named(loaded, names)):
        require_mail(loaded)
    report = compose_due(engine, loaded, now, names)
    return send_outbox(engine, loaded, now, names, report, retry_now=retry_now)

