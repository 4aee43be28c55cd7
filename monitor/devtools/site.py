"""A local web site serving notice pages built from the seed notices, on 127.0.0.1.

Used by `noticewatch demo`, the tests and the benchmarks: no machine of this project reaches the
public web, so every crawl in them goes to a site like this. Pages carry realistic chrome (header,
navigation, cookie banner, footer, scripts) around the notice, and can be edited, broken (status
codes) or slowed down while the site runs.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

SEED_NAMES = {
    "ingram-micro": "Ingram Micro",
    "westcon-comstor": "Westcon-Comstor",
    "partners4it": "Partners 4 IT BV",
    "ismt": "ISMT B.V.",
    "cetit": "CETIT bvba",
}


def seed_text(seed_id: str) -> str:
    """The plain text of one seed notice shipped with the package."""
    return resources.files("monitor.devtools").joinpath("seeds", f"{seed_id}.txt").read_text("utf-8")


def seed_texts() -> dict[str, str]:
    return {seed_id: seed_text(seed_id) for seed_id in SEED_NAMES}


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]*)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BULLET = re.compile(r"^(\s*)(?:[•\-*●▪◦o]|\d+[.)])\s+(.*)$")
_NUMBERED_HEADING = re.compile(r"^\d+(\.\d+)*\.?\s+\S")
_EMAIL = re.compile(r"(?<![\w.:/-])([\w.+-]+@[\w-]+(\.[\w-]+)+)")


def _inline(text: str) -> str:
    """Escape text, then turn Markdown remnants (bold, links) and bare addresses into markup."""
    out = html.escape(text, quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)

    def link(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        href = target if target and target != "#" else "#"
        return f'<a href="{html.escape(href)}">{label}</a>'

    out = _LINK.sub(link, out)
    if "<a " not in out:
        out = _EMAIL.sub(r'<a href="mailto:\1">\1</a>', out)
    return out


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    stripped = line.strip()
    if len(stripped) > 90 or stripped.endswith((".", ",", ";", ":")) and not _NUMBERED_HEADING.match(stripped):
        return False
    if _NUMBERED_HEADING.match(stripped) and len(stripped) < 90 and not stripped.endswith((";", ",")):
        return True
    letters = [c for c in stripped if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8 and len(letters) > 3:
        return True
    return next_line is not None and len(stripped) < 60 and not stripped.endswith((".", ":", ";"))


def notice_html_body(text: str) -> str:
    """Turn a seed's plain text (with Markdown remnants) into the HTML of the notice itself."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                paragraphs.append(current)
                current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)

    out: list[str] = []
    title_done = False
    for index, para in enumerate(paragraphs):
        first = para[0].strip()
        following = paragraphs[index + 1][0] if index + 1 < len(paragraphs) else None
        if first.startswith("#"):
            level = min(len(first) - len(first.lstrip("#")), 5)
            out.append(f"<h{level + (0 if level > 1 else 0)}>{_inline(first.lstrip('#').strip())}</h{level}>")
            title_done = title_done or level == 1
            continue
        if all(_BULLET.match(ln) for ln in para):
            out.append(_list_html(para))
            continue
        if len(para) == 1 and not title_done and index < 3 and len(first) < 120:
            out.append(f"<h1>{_inline(first)}</h1>")
            title_done = True
            continue
        if len(para) == 1 and first != "Skip to main content" and _looks_like_heading(first, following):
            level = 2 if _NUMBERED_HEADING.match(first) or first.isupper() else 3
            out.append(f"<h{level}>{_inline(first)}</h{level}>")
            continue
        out.append("<p>" + "<br>\n".join(_inline(ln.strip()) for ln in para) + "</p>")
    return "\n".join(out)


def _list_html(lines: list[str]) -> str:
    out: list[str] = []
    depth_stack: list[int] = []
    for line in lines:
        match = _BULLET.match(line)
        assert match is not None
        indent = len(match.group(1).expandtabs(4))
        if not depth_stack or indent > depth_stack[-1]:
            out.append("<ul>")
            depth_stack.append(indent)
        else:
            while len(depth_stack) > 1 and indent < depth_stack[-1]:
                out.append("</li></ul>")
                depth_stack.pop()
            out.append("</li>")
        out.append(f"<li>{_inline(match.group(2).strip())}")
    for _ in depth_stack:
        out.append("</li></ul>")
    return "".join(out)


def page_html(company: str, notice_body: str, *, lang: str = "nl", seq: int = 0) -> str:
    """A whole page: chrome (header, nav, cookie banner, footer, scripts) around the notice."""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>Privacyverklaring | {html.escape(company)}</title>
<link rel="stylesheet" href="/static/site.css?v={seq}">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "privacy", "seq": {seq}}});</script>
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{html.escape(company)}</a>
  <nav aria-label="Hoofdmenu"><ul>
    <li><a href="/">Home</a></li><li><a href="/diensten">Diensten</a></li>
    <li><a href="/over-ons">Over ons</a></li><li><a href="/contact">Contact</a></li>
  </ul></nav>
</header>
<div id="cookie-consent" class="cookie-banner" role="dialog">
  <p>Wij gebruiken cookies om uw ervaring te verbeteren. <a href="/cookies">Meer informatie</a></p>
  <button>Accepteren</button> <button>Weigeren</button>
</div>
<main id="content">
<article class="notice">
{notice_body}
</article>
</main>
<footer class="site-footer">
  <p>&copy; 2026 {html.escape(company)} &middot; <a href="/privacy">Privacy</a> &middot;
  <a href="/voorwaarden">Algemene voorwaarden</a></p>
</footer>
<script src="/static/app.js?v={seq}"></script>
</body>
</html>
"""


def home_html(company: str, privacy_path: str, *, lang: str = "nl") -> str:
    """A home page whose footer links to the privacy notice, for discovery."""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(company)}</title></head>
<body><header><nav><a href="/">Home</a> <a href="/diensten">Diensten</a> <a href="/contact">Contact</a></nav>
</header><main><h1>Welkom bij {html.escape(company)}</h1><p>IT-diensten voor het MKB.</p></main>
<footer><a href="/voorwaarden">Algemene voorwaarden</a> <a href="{html.escape(privacy_path)}">Privacyverklaring</a>
</footer></body></html>
"""


@dataclass
class SitePage:
    """One notice on the site; mutate its fields to change what is served."""

    company: str
    text: str
    status: int = 200
    fail_times: int | None = None  # with a non-200 status: fail only this many requests, then recover
    delay: float = 0.0  # seconds to wait before answering
    redirect: str | None = None  # answer with `status` (301/302/...) and this Location instead
    content_type: str = "text/html; charset=utf-8"
    raw: bytes | None = None  # serve these bytes verbatim instead of the generated page
    lang: str = "nl"
    seq: int = 0
    last_modified: float = field(default_factory=lambda: 1_700_000_000.0)
    renderer: Callable[[SitePage, int], bytes] | None = None  # per-request body (noise), given the hit number
    privacy_path: str | None = None  # where the home page's privacy link points (default /privacy/<id>)
    hits: int = 0

    def body(self) -> bytes:
        if self.renderer is not None:
            self.hits += 1
            return self.renderer(self, self.hits)
        if self.raw is not None:
            return self.raw
        return page_html(self.company, notice_html_body(self.text), lang=self.lang, seq=self.seq).encode("utf-8")


class _ManyHostsServer(ThreadingHTTPServer):
    """One listening socket standing in for many hosts: a backlog as deep as a crawl's requests in flight
    (the default of 5 drops connections that hundreds of separate servers would each have accepted)."""

    request_queue_size = 1024


class NoticeSite:
    """A threaded HTTP server on 127.0.0.1 serving /privacy/<id>, /home/<id>, /robots.txt."""

    def __init__(self, pages: dict[str, SitePage] | None = None, host: str = "127.0.0.1", port: int = 0,
                 robots_txt: str = "User-agent: *\nDisallow: /private/\n", validators: bool = True,
                 files: dict[str, tuple[str, bytes]] | None = None) -> None:
        self.pages: dict[str, SitePage] = pages if pages is not None else {
            sid: SitePage(SEED_NAMES[sid], text) for sid, text in seed_texts().items()}
        self.robots_txt = robots_txt
        self.robots_status = 200  # answer /robots.txt with this status (4xx: allow all, 5xx: disallow, RFC 9309)
        self.validators = validators  # send ETag / Last-Modified and answer conditional requests
        self.files: dict[str, tuple[str, bytes]] = files if files is not None else {}  # path → (type, body)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.request_times: list[float] = []  # time.monotonic() at each request's arrival, same order
        self.lock = threading.Lock()
        self._server = _ManyHostsServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, page_id: str) -> str:
        return f"{self.base_url}/privacy/{page_id}"

    def homepage_for(self, page_id: str) -> str:
        return f"{self.base_url}/home/{page_id}"

    def edit(self, page_id: str, old: str, new: str) -> None:
        """Replace the first occurrence of `old` in a notice's text (it must be there)."""
        page = self.pages[page_id]
        if old not in page.text:
            raise ValueError(f"{old!r} not in notice {page_id}")
        with self.lock:
            page.text = page.text.replace(old, new, 1)
            page.last_modified += 3600

    def hits(self, path_prefix: str) -> int:
        with self.lock:
            return sum(1 for _method, path, _h in self.requests if path.startswith(path_prefix))

    def start(self) -> NoticeSite:
        self._thread = threading.Thread(target=self._server.serve_forever, name="notice-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> NoticeSite:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def write_config(self, path: Path, *, database: str | None = None, snapshots: str = "snapshots",
                     delay: float = 0.0, extra: str = "") -> Path:
        """Write a noticewatch.toml watching every page of this site."""
        lines = ["[storage]", f'snapshots = "{snapshots}"']
        if database:
            lines.append(f'database = "{database}"')
        lines += ["", "[crawl]", f"delay = {delay}", "retries = 1", "retry_backoff = 0.1", "timeout = 10", ""]
        for page_id, page in self.pages.items():
            lines += ["[[source]]", f'id = "{page_id}"', f'name = "{page.company}"',
                      f'url = "{self.url_for(page_id)}"', f'language = "{page.lang}"', ""]
        path.write_text("\n".join(lines) + extra, encoding="utf-8")
        return path

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "NoticeSite/1.0"

            def log_message(self, *_args) -> None:
                return

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                with site.lock:
                    site.requests.append((self.command, self.path, dict(self.headers)))
                    site.request_times.append(time.monotonic())
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    self._send(site.robots_status, site.robots_txt.encode(), "text/plain")
                    return
                if path in site.files:
                    ctype, body = site.files[path]
                    self._send(200, body, ctype)
                    return
                kind, _, page_id = path.strip("/").partition("/")
                page = site.pages.get(page_id)
                if kind not in ("privacy", "home") or page is None:
                    self._send(404, b"<html><body><h1>Niet gevonden</h1></body></html>", "text/html")
                    return
                if kind == "home":
                    body = home_html(page.company, page.privacy_path or f"/privacy/{page_id}", lang=page.lang).encode()
                    self._send(200, body, "text/html; charset=utf-8")
                    return
                with site.lock:
                    status, body, ctype = page.status, page.body(), page.content_type
                    modified = formatdate(page.last_modified, usegmt=True)
                    if status != 200 and page.fail_times is not None:
                        if page.fail_times <= 0:
                            status = 200
                        page.fail_times -= 1
                    delay = page.delay
                if delay:
                    time.sleep(delay)
                if page.redirect:
                    self._send(status, b"", "text/html", {"Location": page.redirect})
                    return
                if status != 200:
                    self._send(status, b"<html><body><h1>Server error</h1></body></html>", "text/html")
                    return
                if not site.validators:
                    self._send(200, body, ctype)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", ctype, {"ETag": etag})
                    return
                self._send(200, body, ctype, {"ETag": etag, "Last-Modified": modified})

        return Handler
