"""E-mail digests: what a digest says (view), its rendering with Jinja, when it is due (slots), composing
into the outbox and sending it over SMTP exactly once.
"""

from monitor.digest.render import build_message
from monitor.digest.send import preview, require_mail, send_due_digests, subscriptions_named
from monitor.digest.slots import cron_fields
from monitor.digest.view import build_digest

__all__ = [
    "build_digest",
    "build_message",
    "cron_fields",
    "preview",
    "require_mail",
    "send_due_digests",
    "subscriptions_named",
]
