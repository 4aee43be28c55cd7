"""`digest preview` with no or several subscriptions, and `digest send --now` (child processes, real SMTP)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.config import load_config
from monitor.store import open_db
from tests.support import SUBSCRIPTION_TOML, SMTPServer, run_cli
from tests.support.digest import seed_history
from tests.support.smtp import Handler, write_config

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
TWO = SUBSCRIPTION_TOML + """
[[subscription]]
name = "legal-nl"
to = "legal@example.org"
language = "nl"
"""


def _seeded(tmp_path, db_url, server, subscriptions):
    config = write_config(tmp_path / "noticewatch.toml", db_url, server, subscriptions=subscriptions)
    seed_history(open_db(load_config(config).database_url), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    return config


def test_preview_without_a_subscription_shows_every_change(tmp_path, db_url):
    config = _seeded(tmp_path, db_url, None, "")
    out = tmp_path / "out.html"
    result = run_cli(config, "digest", "preview", "--html", str(out))  # as the README writes it
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Subject: [noticewatch] 3 privacy notices changed")
    assert "preview of every change so far" in result.stderr and "<ins" in out.read_text()


def test_preview_of_several_subscriptions_writes_one_html_file_each(tmp_path, db_url):
    with SMTPServer() as server:
        config = _seeded(tmp_path, db_url, server, TWO)
        out = tmp_path / "out.html"
        result = run_cli(config, "digest", "preview", "--html", str(out))
        assert result.returncode == 0, result.stderr
        assert "3 privacy notices changed" in result.stdout and "3 privacyverklaringen gewijzigd" in result.stdout
        assert (tmp_path / "out.privacy-team.html").is_file() and (tmp_path / "out.legal-nl.html").is_file()
        assert "out.privacy-team.html" in result.stderr and not out.exists()
        one = run_cli(config, "digest", "preview", "--subscription", "legal-nl", "--html", str(out))
        assert one.returncode == 0 and out.is_file() and "privacyverklaringen" in out.read_text()
        assert not server.received


def test_send_now_retries_a_message_waiting_out_its_backoff(tmp_path, db_url):
    with SMTPServer(Handler(refuse=1)) as server:
        config = _seeded(tmp_path, db_url, server, SUBSCRIPTION_TOML)
        failed = run_cli(config, "digest", "send")
        assert failed.returncode == 0 and "not sent (attempt 1): 451" in failed.stderr
        waiting = run_cli(config, "digest", "send")
        assert waiting.stdout.strip() == "digests: nothing due" and not server.received  # backoff: 60 s
        now = run_cli(config, "digest", "send", "--now")
        assert now.returncode == 0 and "sent <" in now.stdout and "(attempt 2)" in now.stdout
        assert len(server.received) == 1
