"""Hand one stored message to the SMTP server with the stdlib: plain, STARTTLS or implicit TLS, AUTH.

Everything that can go wrong on the way (refused connection, timeout, TLS failure, 4xx/5xx replies,
every recipient refused) raises `DeliveryError` with a one-line reason; the outbox keeps the
message and retries it later. A timeout or dropped connection after the whole message and the end
of DATA were sent is different: the server may have accepted it, so `UncertainDelivery` (a
`DeliveryError`) is raised and the outbox holds the message until its lease runs out.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from pathlib import Path

from monitor.config import MailConfig


class DeliveryError(Exception):
    """The server did not accept the message; the text says why in one line."""


class UncertainDelivery(DeliveryError):
    """The message and the end of DATA were sent but no reply came: the server may have it."""


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
        refused = _envelope(client, sender, recipients)
        _data(client, raw)
    except UncertainDelivery:
        client.close()
        raise
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise DeliveryError(describe(exc)) from exc
    _quit_quietly(client)
    return {rcpt: (code, _text(msg)) for rcpt, (code, msg) in refused.items()}


def _envelope(client: smtplib.SMTP, sender: str, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
    """MAIL FROM and RCPT TO as `sendmail` does them; returns the refused recipients (raises if all are)."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for rcpt in recipients:
        code, reply = client.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    return refused


def _data(client: smtplib.SMTP, raw: bytes) -> None:
    """DATA, split where certainty ends: a failure up to the last byte sent means the server has
    nothing; no reply after it (timeout, dropped connection) means it may have the message."""
    code, reply = client.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    payload = re.sub(rb"(?m)^\.", b"..", raw)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    client.send(payload + b".\r\n")
    try:
        code, reply = client.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise UncertainDelivery(f"no reply after the end of DATA ({describe(exc)}); "
                                "the server may have accepted it") from exc
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _quit_quietly(client: smtplib.SMTP) -> None:
    """The message is accepted once DATA got its 250; a failing QUIT must not turn that into a retry."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
