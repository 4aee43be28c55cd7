"""How a stored outbox message leaves: one small class per channel, picked by the message's `channel`.

The outbox (monitor/store/outbox.py) owns the states and the exactly-once rule; a channel only delivers
the stored bytes once per call and raises `DeliveryError` when the other side did not take them.
- `email`: the stored RFC 5322 bytes to the SMTP server of `[mail]`.
- `notify`: the stored title and Markdown body to one Apprise URL of the subscription (`notify`),
  found again by its `target_key`: the outbox never holds the URL's tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from monitor.config import ConfigError, LoadedConfig, MailConfig
from monitor.digest.notify import apprise_send, mask, target_key
from monitor.digest.smtp import DeliveryError, smtp_send
from monitor.store import DigestMessage

EMAIL, NOTIFY = "email", "notify"


class Channel(Protocol):
    def deliver(self, message: DigestMessage) -> dict[str, tuple[int, str]]:
        """Send once; return the recipients that refused (the rest got it); raise DeliveryError."""
        ...


class EmailChannel:
    def __init__(self, loaded: LoadedConfig, mail: MailConfig) -> None:
        self.mail = mail
        self.password = mail.smtp_password()
        self.ca_file = (Path(loaded.base_dir) / mail.ca_file).resolve() if mail.ca_file else None

    def deliver(self, message: DigestMessage) -> dict[str, tuple[int, str]]:
        return smtp_send(self.mail, message.sender, message.recipients, message.raw.encode("ascii"),
                         password=self.password, ca_file=self.ca_file)


class NotifyChannel:
    def __init__(self, loaded: LoadedConfig) -> None:
        self.urls = {target_key(url): url for sub in loaded.config.subscription for url in sub.notify}
        self.timeout = loaded.config.mail.timeout if loaded.config.mail else 30.0

    def deliver(self, message: DigestMessage) -> dict[str, tuple[int, str]]:
        url = self.urls.get(message.target or "")
        if url is None:
            raise DeliveryError(f"{', '.join(message.recipients)}: no longer in the subscription's `notify`; "
                                "add it back to deliver this message")
        content = json.loads(message.raw)
        apprise_send(url, content["title"], content["body"], message_id=message.message_id,
                     body_format=content.get("format", "markdown"), timeout=self.timeout)
        return {}


class Channels:
    """The channels of one send run, each built on first use (SMTP settings only when e-mail is sent)."""

    def __init__(self, loaded: LoadedConfig, require_mail) -> None:
        self.loaded, self.require_mail = loaded, require_mail
        self._built: dict[str, Channel] = {}

    def __getitem__(self, name: str) -> Channel:
        if name not in self._built:
            if name == EMAIL:
                self._built[name] = EmailChannel(self.loaded, self.require_mail(self.loaded))
            elif name == NOTIFY:
                self._built[name] = NotifyChannel(self.loaded)
            else:
                raise ConfigError(f"outbox: message channel {name!r} is not known to this version")
        return self._built[name]


def notify_message(url: str, title: str, body: str) -> tuple[str, str, str]:
    """(target key, masked URL, stored JSON) of one chat/webhook message."""
    return target_key(url), mask(url), json.dumps({"title": title, "body": body, "format": "markdown"},
                                                  ensure_ascii=True)
