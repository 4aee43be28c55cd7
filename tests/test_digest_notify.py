"""Digests to chat and webhooks through Apprise, received by a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from monitor.cli.main import main
from monitor.config import ConfigError, load_config
from monitor.digest import send_due_digests
from monitor.digest.notify import MESSAGE_ID_HEADER
from monitor.store import DigestEntry, DigestMessage, open_db
from tests.support import SMTPServer
from tests.support.digest import record_failures, seed_history
from tests.support.smtp import write_config

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class Hook:
    """A webhook receiver: records every POST; answers with the scripted statuses, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict, dict]] = field(default_factory=list)

    def __enter__(self) -> Hook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.received.append((dict(self.headers), json.loads(body)))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def subscription(name: str, *, to: bool, notify: list[str], language: str = "en") -> str:
    lines = ["", "[[subscription]]", f'name = "{name}"', 'frequency = "immediate"', f'language = "{language}"',
             f"notify = {json.dumps(notify)}"]
    return "\n".join(lines + (['to = "privacy@example.org"'] if to else [])) + "\n"


def rows(engine) -> list[DigestMessage]:
    with Session(engine) as session:
        return list(session.exec(select(DigestMessage).order_by(DigestMessage.id)))


def test_one_digest_goes_to_mail_and_webhook_once_each_with_links(tmp_path, db_url):
    with SMTPServer() as smtp, Hook() as hook:
        path = write_config(tmp_path / "noticewatch.toml", db_url, smtp,
                            subscriptions=subscription("team", to=True, notify=[hook.url]))
        loaded = load_config(path)
        engine = open_db(loaded.database_url)
        change_ids = seed_history(engine, NOW - dt.timedelta(hours=1))
        record_failures(engine, "westcon-comstor", 3, NOW - dt.timedelta(hours=6))
        report = send_due_digests(loaded, engine, NOW)
        assert len(report.composed) == 1 and len(report.sent) == 2 and not report.failed
        assert len(smtp.received) == 1 and len(hook.received) == 1
        headers, payload = hook.received[0]
        assert payload["title"] == smtp.received[0].message["Subject"]
        assert payload["title"].startswith("[noticewatch] 3 privacy notices changed: ")
        lines = payload["message"].splitlines()
        assert len(lines) == 4  # one line per change, one for the failing notice: a summary, not the digest
        for change_id in change_ids:
            assert any(f"(https://noticewatch.example.org/changes/{change_id})" in line for line in lines)
        assert lines[0].startswith("- **") and ": material, " in lines[0]
        assert lines[-1] == "Failing: Westcon-Comstor (unreachable or unusable)"
        notify_row = next(r for r in rows(engine) if r.channel == "notify")
        assert headers[MESSAGE_ID_HEADER] == notify_row.message_id
        assert notify_row.recipients == [f"json://127.0.0.1:{hook.server.server_address[1]}/hook"]
        assert any(s["to"] == notify_row.recipients for s in report.sent)
        again = send_due_digests(loaded, engine, NOW + dt.timedelta(minutes=5))
        assert not again.sent and len(hook.received) == 1 and len(smtp.received) == 1
        with Session(engine) as session:
            entries = session.exec(select(DigestEntry)).all()
        assert sorted(e.change_id for e in entries) == sorted(change_ids)  # each change in one digest


def test_chat_only_subscription_needs_no_mail_and_speaks_dutch(tmp_path, db_url):
    with Hook() as hook:
        path = write_config(tmp_path / "noticewatch.toml", db_url, None,
                            subscriptions='[web]\nbase_url = "https://nw.example/"\n'
                            + subscription("chat", to=False, notify=[hook.url], language="nl"))
        loaded = load_config(path)
        engine = open_db(loaded.database_url)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        report = send_due_digests(loaded, engine, NOW)
        assert len(report.sent) == 1 and [r.channel for r in rows(engine)] == ["notify"]
        _headers, payload = hook.received[0]
        assert payload["title"].startswith("[noticewatch] 3 privacyverklaringen gewijzigd: ")
        assert ": inhoudelijk, " in payload["message"] and "[bekijk](https://nw.example/changes/" in payload["message"]


def test_a_refusing_webhook_keeps_the_message_and_gets_it_once_after_backoff(tmp_path, db_url):
    with SMTPServer() as smtp, Hook(statuses=[500]) as hook:
        path = write_config(tmp_path / "noticewatch.toml", db_url, smtp,
                            subscriptions=subscription("team", to=True, notify=[hook.url]))
        loaded = load_config(path)
        engine = open_db(loaded.database_url)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        first = send_due_digests(loaded, engine, NOW)
        assert len(first.sent) == 1 and len(first.failed) == 1  # the e-mail went; the webhook did not
        failure = first.failed[0]
        assert "500" in failure["error"] and hook.url.split("/hook")[0] in failure["error"]
        assert "\n" not in failure["error"]
        assert not send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=30)).sent  # still backing off
        later = send_due_digests(loaded, engine, NOW + dt.timedelta(seconds=61))
        assert len(later.sent) == 1 and later.sent[0]["attempt"] == 2
        assert len(hook.received) == 2 and hook.received[0][1] == hook.received[1][1]  # the stored message
        assert len(smtp.received) == 1
        assert not send_due_digests(loaded, engine, NOW + dt.timedelta(hours=1)).sent


@pytest.mark.parametrize(("notify", "problem"), [
    (["nosuch://token"], "subscription[0].notify: not a URL Apprise can deliver to (scheme 'nosuch'"),
    (["slack://"], "subscription[0].notify: not a URL Apprise can deliver to (scheme 'slack'"),
])
def test_a_bad_apprise_url_is_a_config_error_that_hides_the_rest(tmp_path, notify, problem):
    path = write_config(tmp_path / "noticewatch.toml", "sqlite:///x.db", None,
                        subscriptions=subscription("team", to=False, notify=notify))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert problem in str(err.value) and "token" not in str(err.value)


def test_digest_send_cli_delivers_to_the_webhook(tmp_path):
    with Hook() as hook:
        path = write_config(tmp_path / "noticewatch.toml", f"sqlite:///{tmp_path / 'nw.db'}", None,
                            subscriptions=subscription("chat", to=False, notify=[hook.url]))
        engine = open_db(load_config(path).database_url)
        seed_history(engine, NOW - dt.timedelta(hours=1))
        engine.dispose()
        result = CliRunner().invoke(main, ["--config", str(path), "digest", "send"])
        assert result.exit_code == 0, result.output
        assert f"to json://127.0.0.1:{hook.server.server_address[1]}/hook" in result.output
        assert len(hook.received) == 1
