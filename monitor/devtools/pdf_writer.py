"""A tiny PDF writer for test and demo notices: text in Helvetica, wrapped, paginated, with a running
header, footer and page numbers, so PDF extraction can be tested against PDFs we build from the seeds.
"""

from __future__ import annotations

import textwrap
import zlib

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 595, 842, 56


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def write_pdf(blocks: list[tuple[str, str]], *, header: str = "", footer: str = "", font_size: float = 10.0,
              page_numbers: str = "Pagina {page} van {pages}") -> bytes:
    """A PDF of (kind, text) blocks; kind is "heading", "list_item" or "paragraph"."""
    leading = font_size * 1.35
    chars_per_line = int((PAGE_WIDTH - 2 * MARGIN) / (font_size * 0.5))
    pages: list[list[bytes]] = [[]]
    y = PAGE_HEIGHT - MARGIN - 2 * leading

    def line(text: str, x: float, font: str, size: float) -> None:
        nonlocal y
        if y < MARGIN + 2 * leading:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN - 2 * leading
        pages[-1].append(b"BT /%s %.1f Tf %.1f %.1f Td %s Tj ET" % (font.encode(), size, x, y, _pdf_string(text)))
        y -= leading if size <= font_size else size * 1.4

    for kind, text in blocks:
        if kind == "heading":
            y -= leading * 0.6
            for part in textwrap.wrap(text, int(chars_per_line * 0.8)) or [""]:
                line(part, MARGIN, "F2", font_size * 1.4)
        elif kind == "list_item":
            wrapped = textwrap.wrap(text, chars_per_line - 4) or [""]
            line("\u2022 " + wrapped[0], MARGIN + 10, "F1", font_size)
            for part in wrapped[1:]:
                line(part, MARGIN + 18, "F1", font_size)
        else:
            for part in textwrap.wrap(text, chars_per_line) or [""]:
                line(part, MARGIN, "F1", font_size)
        y -= leading * 0.7

    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"]
    kids: list[int] = []
    for number, content in enumerate(pages, start=1):
        furniture = []
        if header:
            furniture.append(b"BT /F1 8 Tf %d %d Td %s Tj ET" % (MARGIN, PAGE_HEIGHT - MARGIN + 20,
                                                                  _pdf_string(header)))
        if footer:
            furniture.append(b"BT /F1 8 Tf %d %d Td %s Tj ET" % (MARGIN, MARGIN - 20, _pdf_string(footer)))
        if page_numbers:
            label = page_numbers.format(page=number, pages=len(pages))
            furniture.append(b"BT /F1 8 Tf %d %d Td %s Tj ET" % (PAGE_WIDTH - MARGIN - 70, MARGIN - 34,
                                                                  _pdf_string(label)))
        stream = zlib.compress(b"\n".join(furniture + content))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (PAGE_WIDTH, PAGE_HEIGHT, content_id))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
