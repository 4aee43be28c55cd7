"""Is a fetched body text at all, and which text: binary sniffing and tolerant decoding.

A PNG served as text/html once became a version of 1,567 characters of garbage, and one stray byte
in a UTF-8 page made the whole page decode as windows-1252 (eight clauses "changed"). Here a body
is refused as "not a text document" when it starts with a known binary signature or is mostly
control bytes, and a page that is valid UTF-8 but for a few bytes decodes as UTF-8 with those bytes
replaced. Refusals are `ExtractionError`s: their message is the sentence a user reads.
"""

from __future__ import annotations

import codecs
import logging

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

__all__ = ["ExtractionError", "check_text_body", "decode_body", "extraction_failure", "sniff_binary"]

log = logging.getLogger(__name__)


class ExtractionError(Exception):
    """A body that cannot give a notice; the message is one sentence for the user (detail in the log)."""


def extraction_failure(exc: BaseException, where: str = "") -> str:
    """The one sentence a failed extraction is recorded with; a library's own detail goes to the log.

    An `ExtractionError` is already that sentence; anything else is a bug or a parser's crash on
    hostile input, named by its kind only.
    """
    if isinstance(exc, ExtractionError):
        log.info("extraction failed%s: %s", f" for {where}" if where else "", exc, exc_info=exc.__cause__)
        return str(exc)
    log.warning("extraction failed%s", f" for {where}" if where else "", exc_info=exc)
    return f"extraction failed: the extractor could not read this page ({type(exc).__name__}; details in the log)"


#: Leading bytes of common non-text formats, and the media type reported for them.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"), (b"PK\x03\x04", "application/zip"), (b"PK\x05\x06", "application/zip"),
    (b"\x1f\x8b", "application/gzip"), (b"BZh", "application/x-bzip2"), (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"), (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\x00\x00\x01\x00", "image/x-icon"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"),
    (b"wOFF", "font/woff"), (b"wOF2", "font/woff2"), (b"\x00asm", "application/wasm"),
    (b"\x7fELF", "application/x-executable"), (b"OggS", "audio/ogg"), (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
#: Media types that are never a notice, whatever the body looks like.
NON_TEXT_TYPES = ("image/", "audio/", "video/", "font/", "model/")
#: In the first 4 KB, a share of control bytes (not tab, newline, form feed, carriage return) above
#: this means binary; text pages have none or a stray few.
CONTROL_SHARE = 0.05
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def sniff_binary(body: bytes) -> str | None:
    """The media type of a body that is not text (by signature, else "application/octet-stream" for a
    body mostly of control bytes), or None for a body that may be text."""
    head = body[:4096]
    for magic, media in SIGNATURES:
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if any(head.startswith(bom) for bom, _ in _BOMS[1:]):
        return None  # UTF-16 text: every other byte is NUL
    if head and len(head) - len(head.translate(None, _CONTROL)) > CONTROL_SHARE * len(head):
        return "application/octet-stream"
    return None


def check_text_body(body: bytes, content_type: str | None) -> None:
    """Raise `ExtractionError` for a body that is no notice: a non-text media type or binary content."""
    media = _media_type(content_type)
    sniffed = sniff_binary(body)
    if sniffed is not None:
        raise ExtractionError(f"not a text document ({sniffed})")
    if media.startswith(NON_TEXT_TYPES):
        raise ExtractionError(f"not HTML, PDF or text ({media})")


def _nearly_utf8(body: bytes) -> str | None:
    """The body as UTF-8 with bad bytes replaced, when it is UTF-8 but for a few bytes; else None.

    A legacy (windows-1252, latin-1) page has its accents as single high bytes, so it has invalid
    sequences and almost never a valid multi-byte one; a UTF-8 page with a stray byte has many
    valid ones and one or two invalid.
    """
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    valid = non_ascii - invalid - body.count(b"\xef\xbf\xbd")
    if valid >= 1 and invalid <= max(2, valid // 20):
        return text
    return None


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode a page: BOM, else UTF-8 (valid, or valid but for a few bytes, replaced), else the
    declared charset (header, then <meta>), else windows-1252. UTF-8 wins over a declaration because
    legacy-encoded text almost never decodes as UTF-8, while wrong charset headers on UTF-8 pages
    are common."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    nearly = _nearly_utf8(body)
    if nearly is not None:
        return nearly
    for declared in (http_content_type_encoding(content_type), html_body_declared_encoding(body)):
        encoding = resolve_encoding(declared) if declared else None
        if encoding and encoding.replace("_", "-") not in ("utf-8", "utf8"):
            try:
                return body.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
    return body.decode("cp1252", errors="replace")
