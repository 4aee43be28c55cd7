"""A delivery whose outcome is unknown is never retried early (issue 16): a real aiosmtpd server that
answers the end of DATA later than `timeout`, or drops the connection after it, gets the digest
exactly once within `sending_lease`; after the lease it is resent with the same bytes and Message-ID."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.digest.send import send_due_digests
from monitor.store.db import open_db
from monitor.store.outbox import DigestMessage
from tests.support import SMTPServer
from tests.support.digest import seed_history
from tests.support.smtp import Handler, Received, write_config

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TIMEOUT, BACKOFF, LEASE = 0.5, 60, 600


@dataclass
class SlowOrDropping(Handler):
    """Keeps the message, then answers 250 after `delay` seconds, or drops the connection instead."""

    delay: float = 0.0
    drop: bool = False
    times: int = 1

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            misbehave, self.times = self.times > 0, self.times - 1
        if misbehave and self.drop:
            server.transport.abort()
        elif misbehave:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 queued"


def _row(engine) -> DigestMessage:
    with Session(engine) as session:
        return session.exec(select(DigestMessage)).one()


@pytest.mark.parametrize("misbehaviour", [{"delay": TIMEOUT * 4}, {"drop": True}], ids=["slow-250", "drop"])
def test_unknown_outcome_is_held_for_the_lease_then_resent_identically(tmp_path, db_url, misbehaviour):
    with SMTPServer(SlowOrDropping(**misbehaviour)) as server:
        loaded = load_config(write_config(tmp_path / "noticewatch.toml", db_url, server, timeout=TIMEOUT, lease=LEASE))
        engine = open_db(loaded.database_url)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        first = send_due_digests(loaded, engine, NOW)
        assert not first.sent and not first.failed and len(first.uncertain) == 1
        assert "may have been delivered" in first.lines()[-1] and "same Message-ID" in first.lines()[-1]
        row = _row(engine)
        assert (row.state, row.attempts) == ("uncertain", 1)
        assert len(server.received) == 1
        # Where a certain failure would be retried (the backoff), and up to the end of the lease: nothing.
        for later in (BACKOFF + 1, BACKOFF * 4, LEASE - 1):
            report = send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=later))
            assert report.lines() == ["digests: nothing due"]
        assert len(server.received) == 1
        again = send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=LEASE + 1))
        assert len(again.sent) == 1 and again.sent[0]["uncertain"]
        assert len(server.received) == 2 and server.received[1].data == server.received[0].data
        row = _row(engine)
        assert (row.state, row.attempts, row.uncertain_attempts) == ("sent", 2, 1)
        assert server.received[1].message_id == row.message_id
        assert send_due_digests(loaded, engine, NOW + dt.timedelta(days=1)).sent == []
        assert len(server.received) == 2
