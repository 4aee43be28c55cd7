"""noticewatch.toml: one file for sources, storage and crawl settings, validated up front.

A configuration mistake must cost the user one line of reading: `ConfigError` carries the file,
the key path and the problem, and the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.config.mail import MailConfig, SubscriptionConfig, check_subscriptions
from monitor.config.timespec import check_schedule, parse_duration, parse_timezone

if TYPE_CHECKING:
    from lxml.cssselect import CSSSelector

DEFAULT_CONFIG_NAME = "noticewatch.toml"
CONFIG_ENV = "NOTICEWATCH_CONFIG"


# The languages the date finder and the labels know; a source's `language` must be one of them
# (a region suffix such as "nl-BE" is fine).
LANGUAGES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French"}


class ConfigError(Exception):
    """A configuration problem, already phrased as one line: `file: key: problem`."""


def _check_http_url(value: str | None) -> str | None:
    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


@functools.cache
def css_selector(selector: str) -> CSSSelector:
    """A `select` / `remove` selector compiled by the engine extraction applies it with (lxml's cssselect,
    HTML rules): the configuration is checked with this one, so a selector it accepts never fails a fetch.
    Imported on first use: a configuration without selectors, the common case, does not pay for it."""
    from lxml.cssselect import CSSSelector

    return CSSSelector(selector, translator="html")


def selector_problem(selector: str) -> str | None:
    """Why a CSS selector cannot be used (the parser's first line), None when it can."""
    from cssselect import SelectorError

    try:
        css_selector(selector)
    except SelectorError as exc:
        return str(exc).splitlines()[0]
    return None


def _check_selectors(value: list[str]) -> list[str]:
    for selector in value:
        problem = selector_problem(selector)
        if problem is not None:
            raise ValueError(f"bad CSS selector {selector!r}: {problem}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """One watched notice: its address (or a homepage to discover it from) and extraction overrides."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
    name: str
    url: str | None = None
    homepage: str | None = None
    language: str | None = None
    select: list[str] = []
    remove: list[str] = []
    obey_robots: bool = True
    render: Literal["http", "browser"] = "http"
    schedule: str | None = None  # cron expression or "every 6h"; default: [schedule].default
    paused: bool = False  # `noticewatch pause`: kept in the file and the history, not crawled or expected

    _url = field_validator("url", "homepage")(_check_http_url)
    _sel = field_validator("select", "remove")(_check_selectors)
    _schedule = field_validator("schedule")(lambda v: v if v is None else check_schedule(v))

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value.split("-")[0].lower() not in LANGUAGES:
            known = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
            raise ValueError(f"unknown language {value!r} (noticewatch reads {known})")
        return value

    @field_validator("select", "remove", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _needs_address(self) -> SourceConfig:
        if not self.url and not self.homepage:
            raise ValueError("needs `url` or `homepage`")
        if self.url and self.homepage:
            raise ValueError("give `url` (the notice) or `homepage` (to discover it from), not both")
        return self

    @property
    def start_url(self) -> str:
        return self.url or self.homepage or ""


class StorageConfig(_Strict):
    """Where the history lives: any SQLAlchemy URL and the raw snapshot directory."""

    database: str = "sqlite:///noticewatch.db"
    snapshots: str = "snapshots/"

    @field_validator("database")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url

        try:
            make_url(value)
        except Exception:
            raise ValueError(f"not a SQLAlchemy database URL: {value!r}") from None
        return value


class CrawlConfig(_Strict):
    """Politeness and robustness knobs of the crawler."""

    delay: Annotated[float, Field(ge=0)] = 1.0
    autothrottle: bool = False
    timeout: Annotated[float, Field(gt=0)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    retry_backoff: Annotated[float, Field(ge=0)] = 2.0
    max_size: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    min_text_chars: Annotated[int, Field(ge=0)] = 200
    max_text_loss: Annotated[float, Field(gt=0, le=1)] = 0.5
    diff_timeout: Annotated[float, Field(gt=0)] = 10.0
    diff_max_chars: Annotated[int, Field(gt=0)] = 5_000_000
    gone_after: Annotated[int, Field(ge=1, le=100)] = 3
    confirm_delay: Annotated[float, Field(ge=0, le=600)] = 2.0
    confirm: bool = True
    browser: str = "/usr/bin/chromium"
    concurrency: Annotated[int, Field(ge=1, le=512)] = 64
    extract_workers: Annotated[int, Field(ge=0, le=256)] = 0  # 0: one per core
    extract_timeout: Annotated[float, Field(gt=0)] = 20.0
    contact_url: str = "https://github.com/noticewatch/noticewatch"

    _contact = field_validator("contact_url")(_check_http_url)


class WebConfig(_Strict):
    """`noticewatch serve`: where it listens, a template override folder, the address people use.

    When a notice counts as stale is `[schedule] stale_after`, for the web overview and `status` alike.
    """

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    templates: str | None = None
    language: Literal["en", "nl"] = "en"  # of the labels in pages and terminal output (digests: per subscription)
    base_url: str | None = None  # where people reach this browser: links in chat messages and digests

    _base = field_validator("base_url")(lambda v: v if v is None else _check_http_url(v).rstrip("/"))
    allowed_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]] = []


class FrontierConfig(_Strict):
    """Scale mode: a shared crawl frontier in Redis that `noticewatch worker` processes take from."""

    redis: str
    key_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9:._-]+$")] = "noticewatch"
    visibility_timeout: Annotated[float, Field(gt=0)] = 300.0

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"not a redis:// URL: {value!r}")
        return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


class ScheduleConfig(_Strict):
    """When the daemon crawls (and what `status` expects): schedules, spread, catch-up, staleness, locks."""

    default: str = "0 6 * * *"
    jitter: Duration = 300.0
    timezone: str = "Europe/Amsterdam"
    misfire_grace: Duration = 86400.0
    stale_after: Annotated[float, BeforeValidator(parse_duration), Field(gt=0)] = 2 * 86400.0
    lock_ttl: Annotated[float, BeforeValidator(parse_duration), Field(ge=1)] = 600.0
    cycle_timeout: Annotated[float, BeforeValidator(parse_duration), Field(ge=1)] = 3600.0

    _default = field_validator("default")(check_schedule)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        parse_timezone(value)
        return value


class LogConfig(_Strict):
    """How much noticewatch and Scrapy say on stderr (`-v` and `--log-level` override it per command)."""

    level: Literal["quiet", "error", "warning", "info", "debug"] = "quiet"


class Config(_Strict):
    """The whole file."""

    storage: StorageConfig = StorageConfig()
    crawl: CrawlConfig = CrawlConfig()
    web: WebConfig = WebConfig()
    frontier: FrontierConfig | None = None
    schedule: ScheduleConfig = ScheduleConfig()
    log: LogConfig = LogConfig()
    source: list[SourceConfig] = []
    mail: MailConfig | None = None
    subscription: list[SubscriptionConfig] = []
    # Lines for the user about old keys that still work (see `_deprecated_keys`); printed once per command.
    _deprecations: list[str] = PrivateAttr(default_factory=list)

    @property
    def deprecations(self) -> list[str]:
        return list(self._deprecations)

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for index, src in enumerate(self.source):
            if src.id in seen:
                raise ValueError(f"source[{index}].id: duplicate id {src.id!r}")
            seen.add(src.id)
        check_subscriptions(self.subscription, seen)
        return self

    def sources_named(self, ids: list[str] | tuple[str, ...] | None,
                      include_paused: bool = False) -> list[SourceConfig]:
        """The sources to crawl: all active ones, or the named ones (unknown names are a config error)."""
        if not ids:
            return [s for s in self.source if include_paused or not s.paused]
        known = {s.id: s for s in self.source}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"--source: unknown source id(s): {', '.join(unknown)}")
        return [known[i] for i in ids]


class LoadedConfig:
    """A validated Config plus where it came from, with storage paths made absolute."""

    def __init__(self, config: Config, path: Path | None) -> None:
        self.config = config
        self.path = path
        base = path.parent if path else Path.cwd()
        self.base_dir = base
        self.snapshots_dir = (base / config.storage.snapshots).resolve()
        self.database_url = absolute_sqlite_url(config.storage.database, base)

    @property
    def sources(self) -> list[SourceConfig]:
        return list(self.config.source)

    def require_sources(self) -> None:
        """Commands that crawl or report on sources: a file without any is a configuration error."""
        if not self.config.source:
            raise ConfigError(f"{self.path or DEFAULT_CONFIG_NAME}: source: no [[source]] table: nothing to watch "
                              "(add one with `noticewatch add URL`)")


def absolute_sqlite_url(url: str, base: Path) -> str:
    """Relative SQLite paths are relative to the config file, not to wherever the command runs."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        db_path = Path(parsed.database)
        if not db_path.is_absolute():
            return str(parsed.set(database=str((base / db_path).resolve())))
    return url


def _format_location(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _deprecated_keys(data: dict, origin: str) -> list[str]:
    """Rewrite keys that were replaced into their successors; one line for the user per old key."""
    notes = []
    web, schedule = data.get("web"), data.get("schedule")
    if isinstance(web, dict) and "stale_after_days" in web:
        days = web.pop("stale_after_days")
        if isinstance(schedule, dict) and "stale_after" in schedule:
            notes.append(f"{origin}: web.stale_after_days is deprecated and ignored: [schedule] stale_after is set")
        else:
            if isinstance(days, int | float) and not isinstance(days, bool):
                data.setdefault("schedule", {})["stale_after"] = float(days) * 86400
            notes.append(f"{origin}: web.stale_after_days is deprecated: write [schedule] stale_after = "
                         f'"{days}d" (one setting for the web overview and `status`)')
    return notes


def parse_config(text: str, origin: str = DEFAULT_CONFIG_NAME) -> Config:
    """Parse and validate TOML text; raise ConfigError with a one-line message on any problem."""
    return _validated(text, origin)


@functools.lru_cache(maxsize=8)
def _validated(text: str, origin: str) -> Config:
    """parse_config's work, once per text: a cycle reads its file in the command, the spider, both
    pipelines and the middlewares (a Config is frozen, so they can share it), and at 10,000 sources
    one validation costs about 0.2 s."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    notes = _deprecated_keys(data, origin)
    try:
        config = Config.model_validate(data)
        config._deprecations.extend(notes)
        return config
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _format_location(tuple(err.get("loc", ())))
        if err["type"] == "extra_forbidden":
            problem = "unknown key"
        elif err["type"] == "missing":
            problem = "missing required key"
        else:
            problem = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if key and problem.startswith(key + ":"):
            problem = problem[len(key) + 1:].strip()
        head, sep, rest = problem.partition(": ")
        if key and sep and re.fullmatch(r"[a-z_]+", head):
            key, problem = f"{key}.{head}", rest
        if not key and ": " in problem and problem.split(": ", 1)[0].startswith(("source[", "subscription[")):
            key, problem = problem.split(": ", 1)
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{origin}: {key or '(top level)'}: {problem}{more}") from None


def find_config_path(explicit: str | os.PathLike | None = None) -> Path:
    """`--config`, else $NOTICEWATCH_CONFIG, else ./noticewatch.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return Path(DEFAULT_CONFIG_NAME)


def load_config(explicit: str | os.PathLike | None = None) -> LoadedConfig:
    """Find, read and validate the configuration file."""
    path = find_config_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (use --config or {CONFIG_ENV})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    return LoadedConfig(parse_config(text, str(path)), path.resolve())
