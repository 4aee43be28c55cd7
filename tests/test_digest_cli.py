"""`noticewatch digest preview|send|outbox` and `run --digest` as a user runs them (child processes)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.config.settings import load_config
from monitor.store.db import open_db
from tests.support import SUBSCRIPTION_TOML, SMTPServer, mail_toml, run_cli
from tests.support.digest import seed_history
from tests.support.smtp import write_config

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_run_digest_crawls_then_mails_the_change(site, config_path):
    with SMTPServer() as server:
        config_path.write_text(config_path.read_text() + mail_toml(server) + SUBSCRIPTION_TOML)
        first = run_cli(config_path, "run", "--digest")
        assert first.returncode == 0, first.stderr
        assert "digests: nothing due" in first.stdout and not server.received
        site.edit("partners4it", "We bewaren uw persoonlijke gegevens",
                  "We bewaren uw persoonlijke gegevens, ook in de Verenigde Staten,")
        second = run_cli(config_path, "run", "--digest")
        assert second.returncode == 0, second.stderr
        assert "1 changed" in second.stdout and "digest privacy-team: sent <" in second.stdout
        assert len(server.received) == 1
        msg = server.received[0].message
        assert msg["Subject"] == "[noticewatch] 1 privacy notice changed: Partners 4 IT BV"
        assert "{+, ook in de Verenigde Staten,+}" in msg.get_body(("plain",)).get_content()
        outbox = run_cli(config_path, "digest", "outbox", "--all")
        assert outbox.returncode == 0 and "sent" in outbox.stdout and "Partners 4 IT BV" in outbox.stdout


def test_preview_writes_html_and_sends_nothing(tmp_path, db_url):
    with SMTPServer() as server:
        config = write_config(tmp_path / "noticewatch.toml", db_url, server)
        engine = open_db(load_config(config).database_url)
        seed_history(engine, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        out = tmp_path / "preview.html"
        result = run_cli(config, "digest", "preview", "--subscription", "privacy-team", "--html", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Subject: [noticewatch] 3 privacy notices changed")
        assert "{+maximaal zeven jaar en +}" in result.stdout
        assert "<ins" in out.read_text() and not server.received
        assert run_cli(config, "digest", "outbox").stdout.strip() == "outbox empty"
        sent = run_cli(config, "digest", "send", "--json")
        assert sent.returncode == 0 and '"composed"' in sent.stdout and len(server.received) == 1


def test_cli_errors(tmp_path, db_url, monkeypatch):
    config = write_config(tmp_path / "noticewatch.toml", db_url, None)
    result = run_cli(config, "digest", "send")
    assert result.returncode == 2 and "mail: missing [mail] table" in result.stderr
    result = run_cli(config, "digest", "preview", "--subscription", "nope")
    assert result.returncode == 2 and "--subscription: unknown subscription(s): nope" in result.stderr
    with SMTPServer() as server:
        config = write_config(tmp_path / "noticewatch.toml", db_url, server,
                              mail_extra='user = "nw"\npassword_env = "NW_UNSET_PASSWORD_VAR"\n')
        monkeypatch.delenv("NW_UNSET_PASSWORD_VAR", raising=False)
        result = run_cli(config, "run", "--digest")
        assert result.returncode == 2
        assert "mail.password_env: environment variable NW_UNSET_PASSWORD_VAR is not set" in result.stderr
