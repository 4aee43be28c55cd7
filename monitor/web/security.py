"""Safe defaults of the web app: who may connect, and what a browser may do with our pages.

On a loopback address the app is open (only this machine can reach it). Bound anywhere else it
refuses to start unless credentials come from the environment: a bearer token
(NOTICEWATCH_WEB_TOKEN; browsers send it as the basic-auth password) and/or basic-auth user and
password (NOTICEWATCH_WEB_USER, NOTICEWATCH_WEB_PASSWORD). Every response carries a restrictive
Content-Security-Policy (no scripts at all), nosniff and no framing; only GET and HEAD are served,
except POST of a change review when credentials are configured (CSRF-protected, see routes/reviews.py).

`serve` also answers only the Host names it was started for (`allowed_hosts_for`): the bind
address, localhost and `[web] allowed_hosts`; any other Host header gets 400. Without that, a page
on another site could read the open (loopback, no credentials) API through DNS rebinding: its
name re-pointed at 127.0.0.1, the browser sends that foreign name as Host.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_ENV, USER_ENV, PASSWORD_ENV = "NOTICEWATCH_WEB_TOKEN", "NOTICEWATCH_WEB_USER", "NOTICEWATCH_WEB_PASSWORD"
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
ATTACHMENT_CSP = "default-src 'none'; sandbox"
# The one thing that is written through the web: a change's review, and only with credentials configured.
REVIEW_PATH = re.compile(r"^(/api)?/changes/[0-9]{1,10}/review$")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin")]


class UnsafeBinding(Exception):
    """Asked to listen beyond this machine without credentials; phrased for one line of output."""


@dataclass(frozen=True)
class Credentials:
    """What a request must present; an empty object means the app is open (loopback only)."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    @property
    def required(self) -> bool:
        return bool(self.token or (self.user and self.password))

    def accepts(self, authorization: str | None) -> bool:
        if not self.required:
            return True
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and self.token:
            return secrets.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            if self.user and self.password and (secrets.compare_digest(user.encode(), self.user.encode())
                                                & secrets.compare_digest(password.encode(), self.password.encode())):
                return True
            # A browser can only send basic auth: the token works as the password, with any user name.
            return bool(self.token) and secrets.compare_digest(password.encode(), self.token.encode())
        return False

    def identify(self, authorization: str | None) -> str | None:
        """Who is asking, for a review: the basic-auth user name ("token" for a bearer token); None when
        no credentials are configured (an open server marks nothing) or they do not match."""
        if not self.required or not self.accepts(authorization):
            return None
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
            return user or "token"
        return "token"

    def secret(self) -> bytes:
        return hashlib.sha256(b"noticewatch-csrf\0" + (self.token or "").encode() + b"\0"
                              + (self.user or "").encode() + b"\0" + (self.password or "").encode()).digest()


def csrf_token(credentials: Credentials, reviewer: str, change_id: int) -> str:
    """The form's anti-forgery token: bound to reviewer and change, keyed by the configured credentials."""
    return hmac.new(credentials.secret(), f"{reviewer}\n{change_id}".encode(), hashlib.sha256).hexdigest()


def same_origin(headers: Mapping[str, str]) -> bool:
    """A browser's own form. Sec-Fetch-Site (every current browser sends it) must say same-origin; without
    it, an Origin must be our host. `Origin: null` is what our no-referrer policy makes browsers send."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    return origin in (None, "null") or urlsplit(origin).netloc == headers.get("host")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def credentials_for(host: str, environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials a server on `host` must demand; raise UnsafeBinding if none are configured."""
    environ = os.environ if environ is None else environ
    found = Credentials(environ.get(TOKEN_ENV) or None, environ.get(USER_ENV) or None,
                        environ.get(PASSWORD_ENV) or None)
    if not is_loopback(host) and not found.required:
        raise UnsafeBinding(f"--host {host}: listening beyond this machine needs credentials: set {TOKEN_ENV} "
                            f"or {USER_ENV} and {PASSWORD_ENV}")
    return found


@dataclass(frozen=True)
class AllowedHosts:
    """The Host header values a server answers: names (any port), and any IP literal if `any_ip`."""

    names: frozenset[str]
    any_ip: bool = False

    def accepts(self, host_header: str | None) -> bool:
        host = host_name(host_header)
        if not host:
            return False
        if host in self.names:
            return True
        return self.any_ip and _is_ip(host)


def host_name(host_header: str | None) -> str:
    """The name in a Host header: port removed, IPv6 brackets removed, lower case, no trailing dot."""
    value = (host_header or "").strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_hosts_for(bind: str, extra: Iterable[str] = ()) -> AllowedHosts:
    """What a server bound to `bind` answers: that address, localhost and its loopback addresses, the
    `extra` names ([web] allowed_hosts); bound to every interface (0.0.0.0, ::), any IP literal too
    (an address typed by a user cannot be re-pointed like a name)."""
    bind = host_name(bind)
    names = {bind, "localhost", "127.0.0.1", "::1", *(host_name(h) for h in extra)}
    return AllowedHosts(frozenset(n for n in names if n), any_ip=bind in ("0.0.0.0", "::", ""))


class SecurityMiddleware:
    """ASGI middleware: Host check, authentication, read-only methods, security headers on every response."""

    def __init__(self, app, credentials: Credentials, allowed_hosts: AllowedHosts | None = None) -> None:
        self.app = app
        self.credentials = credentials
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        host = headers.get(b"host", b"").decode("latin-1") or None
        if self.allowed_hosts is not None and not self.allowed_hosts.accepts(host):
            await self._plain(send, 400, b"unknown Host header: this server answers only the names it was "
                                         b"started for (add the name to [web] allowed_hosts)\n", [])
            return
        writable = scope["method"] == "POST" and self.credentials.required and REVIEW_PATH.match(scope["path"])
        if scope["method"] not in ("GET", "HEAD") and not writable:
            await self._plain(send, 405, b"read-only: only GET and HEAD are served\n", [(b"allow", b"GET, HEAD")])
            return
        if not self.credentials.accepts(authorization):
            await self._plain(send, 401, b"authentication required\n",
                              [(b"www-authenticate", b'Basic realm="noticewatch", charset="UTF-8"')])
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in SECURITY_HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _plain(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS,
                                (b"content-security-policy", PAGE_CSP.encode()), *headers]})
        await send({"type": "http.response.body", "body": body})
