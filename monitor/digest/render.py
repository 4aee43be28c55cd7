"""A DigestView → a multipart e-mail (plain text + HTML, each complete) with Jinja templates.

Templates live in templates/digest/ and a user's directory (`[mail] templates`) overrides any of
them file by file, including the chrome strings in strings.toml (nl, en). Autoescaping is on for
*.html.j2, off for the plain-text part (plain text is never interpreted as markup); page content
is only ever passed as data, never as template source and never through `|safe`, so a notice
containing `<script>` or `{{ }}` shows as text.
"""

from __future__ import annotations

import functools
import textwrap
import tomllib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.config import MailConfig, SubscriptionConfig
from monitor.core import shipped_templates
from monitor.diff import inline_text
from monitor.digest.view import DigestView

TEXT_TEMPLATE, HTML_TEMPLATE, STRINGS = "digest/digest.txt.j2", "digest/digest.html.j2", "digest/strings.toml"


@functools.lru_cache(maxsize=8)
def template_env(user_dir: str | None = None) -> Environment:
    """Jinja environment searching the user's directory first, then the built-in templates."""
    paths = [p for p in (user_dir, str(shipped_templates())) if p]
    env = Environment(loader=FileSystemLoader(paths), autoescape=select_autoescape(["html", "html.j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["wrap"] = wrap
    env.filters["inline_text"] = inline_text
    env.filters["utc"] = format_utc
    return env


@functools.lru_cache(maxsize=8)
def chrome_strings(language: str, user_dir: str | None = None) -> dict[str, str]:
    """The digest's fixed wording in one language; a user's strings.toml overrides single keys."""
    with open(shipped_templates() / STRINGS, "rb") as fh:
        strings = tomllib.load(fh)
    merged = dict(strings["en"])
    merged.update(strings.get(language, {}))
    if user_dir and (Path(user_dir) / STRINGS).is_file():
        with open(Path(user_dir) / STRINGS, "rb") as fh:
            merged.update(tomllib.load(fh).get(language, {}))
    return merged


class Translator:
    """`t("key", n=3)` formats a chrome string; `_one`/`_many` variants are picked by `n`."""

    def __init__(self, strings: dict[str, str]) -> None:
        self.strings = strings

    def __call__(self, key: str, **values: object) -> str:
        n = values.get("n")
        if isinstance(n, int) and f"{key}_one" in self.strings:
            key = f"{key}_one" if n == 1 else f"{key}_many"
        return self.strings.get(key, key).format(**values)

    def label(self, prefix: str, value: str) -> str:
        """The translated name of a kind, flag, state ...; the raw value when there is none."""
        return self.strings.get(f"{prefix}_{value}", value.replace("_", " "))


def wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap plain text for the text part, keeping the text's own line breaks."""
    lines = []
    for line in str(text).splitlines() or [""]:
        lines.extend(textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False) or [indent.rstrip()])
    return "\n".join(lines)


def format_utc(value: str | datetime | None, zone: str = "UTC") -> str:
    """`2026-03-01 06:00 UTC` from a datetime or an ISO string, in `zone`."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + ("UTC" if zone == "UTC" else local.strftime("%Z"))


def subject_line(view: DigestView, t: Translator) -> str:
    """Names the companies (material ones first), so the inbox line alone tells who changed."""
    names = [n.name for n in view.notices]
    if names:
        shown = ", ".join(names[:3]) + (t("and_more", n=len(names) - 3) if len(names) > 3 else "")
        subject = t("subject_changes", n=len(names), names=shown)
    elif view.failing:
        subject = t("subject_failing", n=len(view.failing), names=", ".join(f.name for f in view.failing[:3]))
    else:
        subject = t(f"subject_empty_{view.frequency}")
    return " ".join(f"{t('subject_prefix')} {subject}".split())


@functools.lru_cache(maxsize=1)
def _instance() -> str:
    import uuid

    return uuid.uuid4().hex[:8]


def render(view: DigestView, sub: SubscriptionConfig, user_dir: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) of a digest."""
    env = template_env(user_dir)
    t = Translator(chrome_strings(sub.language, user_dir))
    context = {"d": view, "s": view.summary, "t": t, "zone": sub.timezone, "subscription": sub}
    subject = subject_line(view, t)
    context["subject"] = subject
    text = env.get_template(TEXT_TEMPLATE).render(context)
    html = env.get_template(HTML_TEMPLATE).render(context)
    return subject, text, html


def build_message(view: DigestView, sub: SubscriptionConfig, mail: MailConfig | None, *,
                  user_dir: str | None = None, message_id: str | None = None) -> EmailMessage:
    """The e-mail with all headers; `Date` is the composition time so every resend is byte-identical."""
    subject, text, html = render(view, sub, user_dir)
    sender = mail.from_address if mail else "noticewatch <noticewatch@localhost>"
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(sub.to)
    if mail and mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(view.generated_at.astimezone(UTC))
    msg["Message-ID"] = message_id or make_msgid(idstring=f"digest.{sub.name}.{_instance()}", domain=domain)
    msg["List-Id"] = f"noticewatch digest {sub.name} <{sub.name}.digest.{domain}>"
    manager = parseaddr((mail.reply_to or mail.from_address) if mail else sender)[1]
    msg["List-Unsubscribe"] = f"<mailto:{manager}?subject={quote('unsubscribe ' + sub.name)}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Noticewatch-Subscription"] = sub.name
    msg.set_content(text, cte="quoted-printable")  # 7-bit clean: stored as text, passes any relay
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def bare_address(address: str) -> str:
    return parseaddr(address)[1]
