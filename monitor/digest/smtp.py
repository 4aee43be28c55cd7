"""Hand one stored message to the SMTP server with the stdlib: plain, STARTTLS or implicit TLS, AUTH.

Everything that can go wrong on the way (refused connection, timeout, TLS failure, 4xx/5xx replies,
every recipient refused) raises `DeliveryError` with a one-line reason; the outbox keeps the
message and retries it later.
"""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from monitor.config import MailConfig


class DeliveryError(Exception):
    """The server did not accept the message; the text says why in one line."""


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host name checked; `ca_file` adds a private CA (or a self-signed server)."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in sorted(exc.recipients.items()))
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, TimeoutError):
        return f"timed out: {exc}" if str(exc) else "timed out"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _text(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).replace("\n", " ")


def smtp_send(mail: MailConfig, sender: str, recipients: list[str], raw: bytes, *, password: str | None,
              ca_file: Path | None = None) -> dict[str, tuple[int, str]]:
    """Send `raw` as is; return the recipients the server refused (the others got it)."""
    host, port, timeout = mail.host, mail.effective_port, mail.timeout
    try:
        if mail.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(ca_file))
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError and TimeoutError are OSErrors
        raise DeliveryError(describe(exc)) from exc
    try:
        if mail.security == "starttls":
            client.starttls(context=tls_context(ca_file))
        if mail.user:
            client.login(mail.user, password or "")
        refused = client.sendmail(sender, recipients, raw)
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise DeliveryError(describe(exc)) from exc
    _quit_quietly(client)
    return {rcpt: (code, _text(msg)) for rcpt, (code, msg) in refused.items()}


def _quit_quietly(client: smtplib.SMTP) -> None:
    """The message is accepted once DATA got its 250; a failing QUIT must not turn that into a retry."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
