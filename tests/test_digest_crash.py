"""A sender killed mid-delivery: the outbox neither loses the digest nor resends it blindly.

`noticewatch digest send` runs as a real child process and SIGKILLs itself at a named point
(NOTICEWATCH_DIGEST_FAULT). The rule (docs/digest.md): a message left in `sending` is retried only
after its lease ran out, with the same stored bytes and Message-ID, and is reported as a possible
duplicate.
"""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.digest.send import FAULT_ENV, send_due_digests
from monitor.store.db import open_db
from monitor.store.outbox import DigestMessage
from tests.support import SMTPServer, run_cli
from tests.support.digest import seed_history
from tests.support.smtp import write_config


def only_message(engine) -> DigestMessage:
    with Session(engine) as session:
        return session.exec(select(DigestMessage)).one()


@pytest.mark.parametrize("point", ["after_claim", "after_data_accepted"])
def test_killed_sender_recovers(tmp_path, db_url, point):
    with SMTPServer() as server:
        config = write_config(tmp_path / "noticewatch.toml", db_url, server)
        loaded = load_config(config)
        engine = open_db(loaded.database_url)
        seed_history(engine, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        result = run_cli(config, "digest", "send", env={FAULT_ENV: point})
        assert result.returncode == -signal.SIGKILL, result.stderr
        row = only_message(engine)
        assert (row.state, row.attempts) == ("sending", 1)
        delivered_before = len(server.received)
        assert delivered_before == (1 if point == "after_data_accepted" else 0)

        # Within the lease the killed sender cannot be told from a slow one: nothing is resent.
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
        assert send_due_digests(loaded, engine, soon).sent == []
        assert len(server.received) == delivered_before

        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
        report = send_due_digests(loaded, engine, later)
        assert len(report.sent) == 1 and report.sent[0]["uncertain"]
        assert "recipients may see it twice (same Message-ID)" in report.lines()[0]
        row = only_message(engine)
        assert (row.state, row.attempts, row.uncertain_attempts) == ("sent", 2, 1)
        assert send_due_digests(loaded, engine, later + dt.timedelta(days=1)).sent == []

        ids = [r.message_id for r in server.received]
        assert ids == [row.message_id] * len(ids)
        if point == "after_claim":
            assert len(server.received) == 1  # the killed attempt never reached the server: exactly once
        else:
            # accepted, then killed before it was recorded: resent byte for byte, detectable as a duplicate
            assert len(server.received) == 2 and server.received[0].data == server.received[1].data
