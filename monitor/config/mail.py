"""Configuration of e-mail digests: the `[mail]` table and the `[[subscription]]` entries.

Kept apart from monitor/config.py so the digest's settings live with one owner; `Config` includes
them. The SMTP password is never in the file: `password_env` names the environment variable that
holds it, read only when a digest is sent.
"""

from __future__ import annotations

import os
import zoneinfo
from email.utils import parseaddr
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.core import Significance

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_address(value: str) -> str:
    """One e-mail address, optionally with a display name ("Privacy team <privacy@example.org>")."""
    if any(c in value for c in "\r\n"):
        raise ValueError("an address cannot contain a line break")
    _name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain or " " in address or "." not in domain.strip("."):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


class MailConfig(_Strict):
    """How digests leave: the SMTP server, the sender, and where links in a digest point."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    security: Literal["none", "starttls", "tls"] = "starttls"
    user: str | None = None
    password_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    from_address: str = Field(alias="from")
    reply_to: str | None = None
    base_url: str | None = None
    ca_file: str | None = None
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    retry_backoff: Annotated[float, Field(ge=0)] = 300.0
    sending_lease: Annotated[float, Field(gt=0)] = 900.0
    templates: str | None = None

    password: None = Field(default=None, exclude=True, repr=False)

    @field_validator("password", mode="before")
    @classmethod
    def _no_password_in_file(cls, value: object) -> None:
        raise ValueError("not allowed in the file; put it in an environment variable and name that "
                         "variable in `password_env`")

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return value if value is None else check_address(value)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _password_with_user(self) -> MailConfig:
        if self.user and not self.password_env:
            raise ValueError("password_env: needed when `user` is set (the name of the variable holding the password)")
        if self.sending_lease <= 2 * self.timeout:
            raise ValueError("sending_lease: must be more than twice `timeout` (a live sender must never look dead)")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def smtp_password(self) -> str | None:
        """The SMTP password from the environment; a ValueError names the missing variable."""
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ValueError(f"mail.password_env: environment variable {self.password_env} is not set")
        return value


class SubscriptionConfig(_Strict):
    """Who gets which changes, how often, in which language."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
    to: list[str]
    sources: Literal["all"] | list[str] = "all"
    frequency: Literal["immediate", "daily", "weekly"] = "daily"
    hour: Annotated[int, Field(ge=0, le=23)] | None = None
    day: Literal[WEEKDAYS] | None = None  # type: ignore[valid-type]
    timezone: str = "UTC"
    min_significance: Significance = Significance.MINOR
    language: Literal["nl", "en"] = "en"
    send_empty: bool = False
    failing_after: Annotated[int, Field(ge=1, le=1000)] = 3

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one address")
        return [check_address(v) for v in value]

    @field_validator("sources")
    @classmethod
    def _some_sources(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError('needs at least one source id, or "all"')
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Amsterdam)") from None
        return value

    @model_validator(mode="after")
    def _schedule(self) -> SubscriptionConfig:
        if self.frequency == "immediate" and self.hour is not None:
            raise ValueError("hour: only for daily or weekly subscriptions")
        if self.frequency == "immediate" and self.day is not None:
            raise ValueError("day: only for weekly subscriptions")
        if self.frequency == "daily" and self.day is not None:
            raise ValueError("day: only for weekly subscriptions")
        if self.frequency == "immediate" and self.send_empty:
            raise ValueError("send_empty: only for daily or weekly subscriptions")
        return self

    @property
    def send_hour(self) -> int:
        return 7 if self.hour is None else self.hour

    @property
    def weekday(self) -> int:
        return WEEKDAYS.index(self.day or "monday")

    def covers(self, source_id: str) -> bool:
        return self.sources == "all" or source_id in self.sources


def check_subscriptions(subscriptions: list[SubscriptionConfig], source_ids: set[str]) -> None:
    """Names unique, named sources configured; raises `subscription[i].key: problem`."""
    names: set[str] = set()
    for index, sub in enumerate(subscriptions):
        if sub.name in names:
            raise ValueError(f"subscription[{index}].name: duplicate name {sub.name!r}")
        names.add(sub.name)
        if isinstance(sub.sources, list):
            unknown = [s for s in sub.sources if s not in source_ids]
            if unknown:
                raise ValueError(f"subscription[{index}].sources: unknown source id(s): {', '.join(unknown)}")

