"""Every extraction failure is a sentence a user can act on (issue 16): damaged PDFs, oversized
bodies (announced or chunked), binary bodies; the library's detail goes to the log, never to stderr.
A killed blob write leaves no temporary file behind after the next start."""

from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from monitor.archive.blobs import Archive
from monitor.config.settings import load_config
from monitor.devtools.pdf_writer import write_pdf
from monitor.extract import ExtractionError
from monitor.extract.html import extract_document
from monitor.store.db import open_db
from monitor.store.models import Fetch
from tests.support import run_cli

PDF = write_pdf([("heading", "Privacyverklaring"),
                 *[("paragraph", f"Clausule {i}: wij delen gegevens alleen binnen de EER. " * 3) for i in range(12)]])
SENTENCES = {"PDF is damaged or truncated", "PDF is encrypted", "PDF nests its objects too deeply to be read"}


def test_truncated_and_garbled_pdfs_are_damaged():
    for body in (PDF[: len(PDF) // 2], PDF[:40], b"%PDF-1.7\n" + bytes(range(256)) * 8):
        with pytest.raises(ExtractionError, match=r"^PDF is damaged or truncated$"):
            extract_document(body, "application/pdf")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(1, 40), st.booleans())
def test_corrupted_pdfs_give_a_notice_or_a_sentence_and_print_nothing(capfd, rng, flips, truncate):
    body = bytearray(PDF)
    for _ in range(flips):
        body[rng.randrange(len(body))] = rng.randrange(256)
    if truncate:
        body = body[: rng.randrange(20, len(body))]
    try:
        extract_document(bytes(body), "application/pdf")
    except ExtractionError as exc:
        assert str(exc) in SENTENCES
    out, err = capfd.readouterr()
    assert out == "" and err == ""


class _Big(BaseHTTPRequestHandler):
    """Serves 300 KB at /announced (with Content-Length) and /chunked (Transfer-Encoding: chunked)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        chunk = b"<p>" + b"privacy " * 1000 + b"</p>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path.startswith("/announced"):
            self.send_header("Content-Length", str(len(chunk) * 40))
            self.end_headers()
            self.wfile.write(chunk * 40)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(40):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up at max_size


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the client hanging up at max_size is the point of the test


def test_body_larger_than_max_size_is_a_sentence_announced_or_chunked(tmp_path, db_url):
    server = _QuietServer(("127.0.0.1", 0), _Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    config = tmp_path / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "{db_url}"\nsnapshots = "snapshots"\n\n'
                      "[crawl]\ndelay = 0\nretries = 0\ntimeout = 10\nmax_size = 100000\n\n"
                      f'[[source]]\nid = "announced"\nname = "A"\nurl = "{base}/announced"\n\n'
                      f'[[source]]\nid = "chunked"\nname = "C"\nurl = "{base}/chunked"\n', "utf-8")
    try:
        run_cli(config, "run")
    finally:
        server.shutdown()
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        errors = {f.source_id: f.error for f in session.exec(select(Fetch))}
    engine.dispose()
    assert errors == {"announced": "body larger than max_size (100,000 bytes)",
                      "chunked": "body larger than max_size (100,000 bytes, chunked)"}


def test_stale_temporary_blobs_are_removed_at_the_next_start(tmp_path: Path):
    archive = Archive(tmp_path / "snapshots")
    stored = archive.put(b"<p>hallo</p>")
    folder = archive.path_for(stored.sha256).parent
    stale, fresh = folder / ".tmp-killed", folder / ".tmp-in-flight"
    for path in (stale, fresh):
        path.write_bytes(b"half a blob")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    archive.check_writable()
    assert not stale.exists() and fresh.exists() and archive.exists(stored.sha256)
