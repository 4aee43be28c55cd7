"""The sample digest in docs/ is what the code renders, and its HTML renders in a real browser."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

from tests.support.digest_sample import DOCS, render_sample

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # installed by .ci/run


def test_committed_sample_is_current():
    subject, text, html = render_sample()
    assert (DOCS / "sample-digest.txt").read_text(encoding="utf-8") == f"Subject: {subject}\n\n{text}", \
        "docs/sample-digest.txt is stale: run python -m tests.support.digest_sample"
    assert (DOCS / "sample-digest.html").read_text(encoding="utf-8") == html
    assert "{+maximaal zeven jaar en +}" in text and "Westcon-Comstor" in text


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of a PNG (8-bit RGB/RGBA, as Chromium writes them)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_sample_html_renders_at_600px(tmp_path):
    page = tmp_path / "digest.html"
    page.write_text(render_sample()[2], encoding="utf-8")
    shot = tmp_path / "digest.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=600,2000", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), result.stderr[-2000:]
    width, height, raw = _png_pixels(shot)
    assert (width, height) == (600, 2000)
    assert shot.stat().st_size > 20_000  # text, colours and boxes, not a blank page
    distinct = len(set(raw[i:i + 3] for i in range(0, len(raw), 97)))
    assert distinct > 50
