"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the digest tests: STARTTLS, implicit TLS, AUTH,
scripted refusals; and the [mail] / [[subscription]] TOML that points noticewatch at it."""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.devtools import SEED_NAMES
from tests.support.net import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default_policy)

    @property
    def message_id(self) -> str:
        """The Message-ID as sent. A long one is folded onto its own line (RFC 5322 allows white space
        around a msg-id), which the parser keeps as a leading space: it is not part of the id."""
        return self.message["Message-ID"].strip()


@dataclass
class Handler:
    """Stores what arrives; answers the first `refuse` DATA commands with `refuse_reply`."""

    refuse: int = 0
    refuse_reply: str = "451 4.3.0 try again later"
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return self.refuse_reply
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) with its key, made with `cryptography`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp-cert.pem", tmp / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SMTPServer:
    """aiosmtpd on 127.0.0.1: mode `plain`, `starttls` (required) or `tls`; optional AUTH user/password."""

    def __init__(self, handler: Handler | None = None, *, mode: str = "plain", cert: tuple[Path, Path] | None = None,
                 user: str | None = None, password: str | None = None, port: int | None = None) -> None:
        self.handler = handler or Handler()
        self.port = port or free_port()
        self.mode = mode
        self.auth_attempts: list[str] = []
        kwargs: dict = {}
        if mode in ("starttls", "tls"):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            kwargs["tls_context" if mode == "starttls" else "ssl_context"] = context
            if mode == "starttls":
                kwargs["require_starttls"] = True
        if user is not None:
            def authenticate(_server, _session, _envelope, mechanism, auth_data):
                ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                      and auth_data.password.decode() == password)
                self.auth_attempts.append(f"{mechanism}:{'ok' if ok else 'bad'}")
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticate, auth_required=True,
                          auth_require_tls=mode == "starttls")  # implicit TLS is not seen as TLS by aiosmtpd
        self.cert = cert
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="127.0.0.1", ready_timeout=10, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> SMTPServer:
        if self.mode == "tls":
            # The controller's readiness probe would wrap its socket with the *server* context.
            def trigger() -> None:
                client = ssl.create_default_context(cafile=str(self.cert[0]))
                with socket.create_connection(("127.0.0.1", self.port), 2.0) as raw, \
                        client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.recv(1024)

            self.controller._trigger_server = trigger
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def mail_toml(server: SMTPServer, *, security: str = "none", extra: str = "", timeout: float = 5,
              lease: float = 60) -> str:
    return (f'\n[mail]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "{security}"\n'
            f'from = "noticewatch <noticewatch@example.org>"\nreply_to = "privacy-admin@example.org"\n'
            f'base_url = "https://noticewatch.example.org"\ntimeout = {timeout}\nsending_lease = {lease:g}\n'
            f'retry_backoff = 60\n{extra}')


SUBSCRIPTION_TOML = """
[[subscription]]
name = "privacy-team"
to = ["Privacy Team <privacy@example.org>", "dpo@example.org"]
frequency = "immediate"
language = "en"
"""


def write_config(path: Path, db_url: str, server: SMTPServer | None = None, *, security: str = "none",
                 subscriptions: str = SUBSCRIPTION_TOML, mail_extra: str = "", timeout: float = 5,
                 lease: float = 60) -> Path:
    """A noticewatch.toml over the seed sources (never crawled here) with [mail] and subscriptions."""
    lines = ["[storage]", f'database = "{db_url}"', 'snapshots = "snapshots"', ""]
    for source_id, name in SEED_NAMES.items():
        lines += ["[[source]]", f'id = "{source_id}"', f'name = "{name}"',
                  f'url = "https://{source_id}.example/privacy"', ""]
    mail = mail_toml(server, security=security, extra=mail_extra, timeout=timeout, lease=lease) if server else ""
    path.write_text("\n".join(lines) + mail + subscriptions, encoding="utf-8")
    return path
