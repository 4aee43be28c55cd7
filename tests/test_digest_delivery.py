"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest
from sqlmodel import Session, select

from monitor.config.settings import ConfigError, load_config
from monitor.devtools.site import seed_text
from monitor.digest.send import due_subscriptions, send_due_digests
from monitor.store.db import open_db
from monitor.store.outbox import DigestEntry, DigestMessage
from tests.support import SMTPServer, free_port
from tests.support.digest import SEED_EDITS, record_failures, record_text, seed_history
from tests.support.smtp import Handler, self_signed, write_config

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def setup(tmp_path, db_url, server, **kw):
    loaded = load_config(write_config(tmp_path / "noticewatch.toml", db_url, server, **kw))
    engine = open_db(loaded.database_url)
    return loaded, engine


def messages(engine) -> list[DigestMessage]:
    with Session(engine) as session:
        return list(session.exec(select(DigestMessage).order_by(DigestMessage.id)))


def test_digest_arrives_with_both_parts_headers_and_diff(tmp_path, db_url):
    with SMTPServer() as server:
        loaded, engine = setup(tmp_path, db_url, server)
        change_ids = seed_history(engine, NOW - dt.timedelta(hours=1))
        record_failures(engine, "westcon-comstor", 3, NOW - dt.timedelta(hours=6))
        report = send_due_digests(loaded, engine, NOW)
        assert len(report.composed) == 1 and len(report.sent) == 1 and not report.failed
        assert len(server.received) == 1
        got = server.received[0]
        assert got.mail_from == "noticewatch@example.org"
        assert sorted(got.rcpt_tos) == ["dpo@example.org", "privacy@example.org"]
        msg = got.message
        assert msg["From"] == "noticewatch <noticewatch@example.org>"
        assert msg["To"] == "Privacy Team <privacy@example.org>, dpo@example.org"
        assert msg["Reply-To"] == "privacy-admin@example.org"
        assert msg["Subject"] == "[noticewatch] 3 privacy notices changed: CETIT bvba, ISMT B.V., Partners 4 IT BV"
        assert got.message_id == report.sent[0]["message_id"] and got.message_id.endswith("@example.org>")
        assert msg["Date"] and msg["List-Unsubscribe"].strip() == (
            "<mailto:privacy-admin@example.org?subject=unsubscribe%20privacy-team>")
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "{+, ook in de Verenigde Staten,+}" in text
        assert "<ins" in html and ", ook in de Verenigde Staten," in html and "<del" not in html.split("<ins")[0][-10:]
        assert "https://noticewatch.example.org/changes/" in text and "NOTICES THAT ARE FAILING" in text
        assert "Westcon-Comstor" in html and "HTTP 503" in html
        assert "<script" not in html and "http://" not in html.replace("https://", "")  # no external resources
        with Session(engine) as session:
            entries = session.exec(select(DigestEntry.change_id)).all()
        assert sorted(entries) == sorted(change_ids)
        # a second run has nothing new: nothing composed, nothing sent again
        assert send_due_digests(loaded, engine, NOW + dt.timedelta(minutes=5)).lines() == ["digests: nothing due"]
        later = record_text(engine, "ismt", seed_text("ismt").replace("Wij bewaren", "Wij verwerken", 1),
                            NOW + dt.timedelta(minutes=6))
        report = send_due_digests(loaded, engine, NOW + dt.timedelta(minutes=10))
        assert [c["changes"] for c in report.composed] == [1] and len(server.received) == 2
        assert "ISMT B.V." in server.received[1].message["Subject"]
        with Session(engine) as session:
            assert session.exec(select(DigestEntry).where(DigestEntry.change_id == later)).one()


def test_refused_then_recovered_is_delivered_exactly_once(tmp_path, db_url):
    with SMTPServer(Handler(refuse=2)) as server:
        loaded, engine = setup(tmp_path, db_url, server)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        first = send_due_digests(loaded, engine, NOW)
        assert first.failed[0]["error"].startswith("451 4.3.0 try again later") and not server.received
        row = messages(engine)[0]
        assert (row.state, row.attempts) == ("composed", 1) and "451" in row.last_error
        assert row.next_attempt_at == NOW + dt.timedelta(seconds=60)
        # not yet due: backoff is respected
        assert send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=30)).lines() == ["digests: nothing due"]
        second = send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=61))
        assert second.failed and messages(engine)[0].next_attempt_at == NOW + dt.timedelta(seconds=61 + 120)
        third = send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=200))
        assert len(third.sent) == 1 and not third.composed
        assert send_due_digests(loaded, engine, NOW + dt.timedelta(days=1)).sent == []
        assert len(server.received) == 1
        row = messages(engine)[0]
        assert (row.state, row.attempts, row.last_error) == ("sent", 3, None)
        assert server.received[0].message_id == row.message_id


def test_unreachable_server_and_timeout_keep_the_message(tmp_path, db_url):
    port = free_port()
    loaded, engine = setup(tmp_path, db_url, SMTPServer(port=port))
    seed_history(engine, NOW - dt.timedelta(hours=1))
    report = send_due_digests(loaded, engine, NOW)  # nothing listens on the port
    assert report.failed and "ConnectionRefusedError" in report.failed[0]["error"]
    # a server that accepts the connection but never greets: a timeout, still kept
    silent = socket.socket()
    silent.bind(("127.0.0.1", port))
    silent.listen(1)
    loaded_fast = load_config(write_config(tmp_path / "fast.toml", db_url, SMTPServer(port=port), timeout=0.5))
    report = send_due_digests(loaded_fast, engine, NOW + dt.timedelta(hours=1))
    silent.close()
    assert report.failed and "timed out" in report.failed[0]["error"]
    with SMTPServer(port=port) as server:
        report = send_due_digests(loaded, engine, NOW + dt.timedelta(hours=2))
        assert len(report.sent) == 1 and len(server.received) == 1
    assert messages(engine)[0].attempts == 3


def test_starttls_with_auth(tmp_path, db_url, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("NW_TEST_SMTP_PASSWORD", "correct horse")
    with SMTPServer(mode="starttls", cert=(cert, key), user="nw", password="correct horse") as server:
        extra = f'user = "nw"\npassword_env = "NW_TEST_SMTP_PASSWORD"\nca_file = "{cert.name}"\n'
        loaded, engine = setup(tmp_path, db_url, server, security="starttls", mail_extra=extra)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        monkeypatch.setenv("NW_TEST_SMTP_PASSWORD", "wrong")
        report = send_due_digests(loaded, engine, NOW)
        assert report.failed and report.failed[0]["error"].startswith("535") and not server.received
        monkeypatch.setenv("NW_TEST_SMTP_PASSWORD", "correct horse")
        report = send_due_digests(loaded, engine, NOW + dt.timedelta(hours=1))
        assert len(report.sent) == 1 and len(server.received) == 1
        assert server.auth_attempts[-1].endswith(":ok")


def test_implicit_tls_checks_the_certificate(tmp_path, db_url, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("NW_TEST_SMTP_PASSWORD", "pw")
    with SMTPServer(mode="tls", cert=(cert, key), user="nw", password="pw") as server:
        base = 'user = "nw"\npassword_env = "NW_TEST_SMTP_PASSWORD"\n'
        loaded, engine = setup(tmp_path, db_url, server, security="tls", mail_extra=base)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        report = send_due_digests(loaded, engine, NOW)  # the self-signed certificate is not trusted
        assert report.failed and "CERTIFICATE_VERIFY_FAILED" in report.failed[0]["error"]
        loaded = load_config(write_config(tmp_path / "noticewatch.toml", db_url, server, security="tls",
                                          mail_extra=base + f'ca_file = "{cert.name}"\n'))
        report = send_due_digests(loaded, engine, NOW + dt.timedelta(hours=1))
        assert len(report.sent) == 1 and len(server.received) == 1


def test_schedule_significance_and_send_empty(tmp_path, db_url):
    subs = """
[[subscription]]
name = "weekly-nl"
to = "dpo@example.org"
sources = ["ismt", "cetit"]
frequency = "weekly"
day = "monday"
hour = 7
language = "nl"
send_empty = true
min_significance = "material"
"""
    with SMTPServer() as server:
        loaded, engine = setup(tmp_path, db_url, server, subscriptions=subs)
        monday = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.UTC)
        record_text(engine, "ismt", seed_text("ismt"), monday - dt.timedelta(days=2))
        record_text(engine, "ismt", seed_text("ismt").replace(SEED_EDITS[1][1], SEED_EDITS[1][2], 1),
                    monday - dt.timedelta(days=1))
        record_text(engine, "cetit", seed_text("cetit"), monday - dt.timedelta(days=2))
        record_text(engine, "cetit", seed_text("cetit").replace("uw informatie", "UW informatie", 1),
                    monday - dt.timedelta(days=1))  # cosmetic: below min_significance
        record_text(engine, "partners4it", seed_text("partners4it"), monday - dt.timedelta(days=2))
        record_text(engine, "partners4it", seed_text("partners4it") + "\n\nNieuw.\n", monday - dt.timedelta(days=1))
        assert [s.name for s in due_subscriptions(loaded, engine, monday)] == ["weekly-nl"]
        report = send_due_digests(loaded, engine, monday)
        assert len(report.sent) == 1
        msg = server.received[0].message
        assert msg["Subject"] == "[noticewatch] 1 privacyverklaring gewijzigd: ISMT B.V."  # partners4it not subscribed
        assert "1 wijziging onder uw minimale belang (inhoudelijk) weggelaten" in msg.get_body(("plain",)).get_content()
        assert due_subscriptions(loaded, engine, monday + dt.timedelta(days=3)) == []
        assert send_due_digests(loaded, engine, monday + dt.timedelta(days=3)).sent == []
        report = send_due_digests(loaded, engine, monday + dt.timedelta(days=7))
        assert len(report.sent) == 1
        assert server.received[1].message["Subject"] == "[noticewatch] geen wijzigingen deze week"


def test_newly_failing_notice_triggers_one_digest(tmp_path, db_url):
    with SMTPServer() as server:
        loaded, engine = setup(tmp_path, db_url, server)
        record_failures(engine, "ismt", 2, NOW - dt.timedelta(hours=5))
        assert send_due_digests(loaded, engine, NOW).sent == []  # two failures: below failing_after = 3
        record_failures(engine, "ismt", 1, NOW - dt.timedelta(hours=1))
        assert len(send_due_digests(loaded, engine, NOW).sent) == 1
        assert server.received[0].message["Subject"] == "[noticewatch] 1 privacy notice failing: ISMT B.V."
        record_failures(engine, "ismt", 1, NOW)
        assert send_due_digests(loaded, engine, NOW + dt.timedelta(hours=1)).sent == []  # already reported


def test_hostile_notice_is_escaped_in_the_delivered_mail(tmp_path, db_url):
    hostile = 'Nieuw: <script>alert("pwned")</script> en {{ config }} en <img src=x onerror=alert(1)>.'
    with SMTPServer() as server:
        loaded, engine = setup(tmp_path, db_url, server)
        record_text(engine, "ismt", seed_text("ismt"), NOW - dt.timedelta(hours=2))
        text = seed_text("ismt").replace(SEED_EDITS[1][1], SEED_EDITS[1][1] + " " + hostile, 1)
        record_text(engine, "ismt", text, NOW - dt.timedelta(hours=1))
        send_due_digests(loaded, engine, NOW)
        msg = server.received[0].message
        html = msg.get_body(("html",)).get_content()
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html and "{{ config }}" in html
        assert "<script" not in html and "<img" not in html
        assert 'alert("pwned")' in msg.get_body(("plain",)).get_content()


def test_two_senders_at_once_deliver_once(tmp_path, db_url):
    with SMTPServer() as server:
        loaded, engine = setup(tmp_path, db_url, server)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        results, errors = [], []

        def run():
            try:
                results.append(send_due_digests(loaded, open_db(loaded.database_url), NOW))
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(server.received) == 1 and len(messages(engine)) == 1
        assert sum(len(r.sent) for r in results) == 1


def test_missing_mail_table_is_a_config_error(tmp_path, db_url):
    loaded, engine = setup(tmp_path, db_url, None)
    with pytest.raises(ConfigError, match=r"mail: missing \[mail\] table"):
        send_due_digests(loaded, engine, NOW)
