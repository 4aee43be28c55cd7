"""[mail] and [[subscription]]: every mistake is one line `file: key: problem`, exit code 2."""

from __future__ import annotations

import pytest

from monitor.config.settings import ConfigError, parse_config

BASE = """
[[source]]
id = "ismt"
name = "ISMT B.V."
url = "https://ismt.example/privacy"

[mail]
host = "smtp.example.org"
from = "noticewatch <noticewatch@example.org>"
{mail}

[[subscription]]
name = "team"
{sub}
"""


def parse(mail: str = "", sub: str = ""):
    to = "" if "to =" in sub else 'to = "privacy@example.org"\n'
    return parse_config(BASE.format(mail=mail, sub=to + sub), "nw.toml")


def test_defaults_and_values():
    config = parse('security = "tls"\nuser = "nw"\npassword_env = "NW_SMTP"',
                   'sources = ["ismt"]\nfrequency = "weekly"\nday = "friday"\nhour = 16\n'
                   'timezone = "Europe/Amsterdam"\nlanguage = "nl"\nsend_empty = true\nmin_significance = "material"')
    assert config.mail.effective_port == 465 and config.mail.from_address.endswith("<noticewatch@example.org>")
    sub = config.subscription[0]
    assert (sub.to, sub.sources, sub.weekday, sub.send_hour, sub.language) == (
        ["privacy@example.org"], ["ismt"], 4, 16, "nl")
    assert parse().subscription[0].min_significance == "minor"


@pytest.mark.parametrize(("mail", "sub", "expected"), [
    ('password = "hunter2"', "", "nw.toml: mail.password: not allowed in the file"),
    ('user = "nw"', "", "nw.toml: mail.password_env: needed when `user` is set"),
    ('security = "ssl"', "", "nw.toml: mail.security: "),
    ('base_url = "ftp://x"', "", "nw.toml: mail.base_url: not an http(s) URL"),
    ('timeout = 100\nsending_lease = 150', "", "nw.toml: mail.sending_lease: must be more than twice"),
    ("", 'sources = ["nope"]', "nw.toml: subscription[0].sources: unknown source id(s): nope"),
    ("", 'to = ["not an address"]', "nw.toml: subscription[0].to: not an e-mail address"),
    ("", 'frequency = "hourly"', "nw.toml: subscription[0].frequency: "),
    ("", 'frequency = "immediate"\nhour = 7', "nw.toml: subscription[0].hour: only for daily or weekly"),
    ("", 'day = "monday"', "nw.toml: subscription[0].day: only for weekly"),
    ("", 'frequency = "immediate"\nsend_empty = true', "nw.toml: subscription[0].send_empty: only for daily"),
    ("", 'timezone = "Mars/Olympus"', "nw.toml: subscription[0].timezone: unknown time zone"),
    ("", 'language = "de"', "nw.toml: subscription[0].language: "),
    ("", 'min_significance = "huge"', "nw.toml: subscription[0].min_significance: "),
    ("", 'colour = "red"', "nw.toml: subscription[0].colour: unknown key"),
])
def test_mistakes_are_one_line(mail, sub, expected):
    with pytest.raises(ConfigError) as info:
        parse(mail, sub)
    message = str(info.value)
    assert message.startswith(expected) and "\n" not in message


def test_duplicate_subscription_names():
    text = (BASE.format(mail="", sub='to = "privacy@example.org"')
            + '\n[[subscription]]\nname = "team"\nto = "x@example.org"\n')
    with pytest.raises(ConfigError, match=r"^nw.toml: subscription\[1\].name: duplicate name 'team'$"):
        parse_config(text, "nw.toml")


def test_password_comes_from_the_environment(monkeypatch):
    mail = parse('user = "nw"\npassword_env = "NW_TEST_SMTP_PASSWORD"').mail
    monkeypatch.delenv("NW_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="environment variable NW_TEST_SMTP_PASSWORD is not set"):
        mail.smtp_password()
    monkeypatch.setenv("NW_TEST_SMTP_PASSWORD", "s3cret")
    assert mail.smtp_password() == "s3cret"
