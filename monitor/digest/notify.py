"""Hand one stored chat/webhook message to Apprise: Slack, Teams, Matrix, ntfy, JSON webhooks and more.

Like the SMTP side (monitor/digest/smtp.py), every failure becomes a `DeliveryError` with one line of
reason, which the outbox records before it retries; Apprise's own log lines are captured for that
reason instead of reaching stderr. URLs carry tokens: only their masked form (`privacy=True`) is
ever stored or printed.
"""

from __future__ import annotations

import hashlib
import logging
import re

from monitor.digest.smtp import DeliveryError

# A message id travels with JSON/XML/form webhooks as a header, so a receiver can drop a repeat.
MESSAGE_ID_HEADER = "X-Noticewatch-Message-ID"
_HEADER_SCHEMES = ("json", "jsons", "xml", "xmls", "form", "forms")


def target_key(url: str) -> str:
    """What the outbox stores to find a subscription's URL again without storing its secrets."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def mask(url: str) -> str:
    """The URL with its tokens and passwords hidden, for reports, logs and the outbox."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return re.sub(r"//[^/]*@", "//***@", url.split("?", 1)[0])
    return plugin.url(privacy=True).split("?", 1)[0]


def _with_message_id(url: str, message_id: str) -> str:
    if url.partition("://")[0].lower() not in _HEADER_SCHEMES:
        return url
    safe = re.sub(r"[^A-Za-z0-9<>@._-]", "", message_id)
    return f"{url}{'&' if '?' in url else '?'}+{MESSAGE_ID_HEADER}={safe}"


def apprise_send(url: str, title: str, body: str, *, message_id: str, body_format: str = "markdown",
                 timeout: float = 30.0) -> None:
    """Deliver once; raise DeliveryError with Apprise's reason when the service did not take it."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(_with_message_id(url, message_id)):
        raise DeliveryError(f"{mask(url)}: not a usable Apprise URL")
    for plugin in notifier:
        plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        ok = notifier.notify(body=body, title=title, body_format=body_format)
    if not ok:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        reason = "; ".join(lines[-2:]) if lines else "the service did not accept the message"
        raise DeliveryError(f"{mask(url)}: {reason}"[:500])
