"""Small PDFs for tests, written by hand (no extra package): text pages, image-only pages,
encrypted, truncated. Shared with other test packages (e.g. UI uploads):

    from tests.ingest.pdf_factory import make_text_pdf
    make_text_pdf(tmp_path / "paper.pdf", ["page one text", "page two text"], title="A Title")
"""

from __future__ import annotations

import textwrap
from pathlib import Path

_LINE_CHARS = 90  # wrap width; a "\n" in the text also starts a new line
_LINES_PER_PAGE = 50


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _text_stream(text: str) -> bytes:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, _LINE_CHARS) or [""])
    lines = lines[:_LINES_PER_PAGE]
    body = b" T*\n".join(b"(" + _escape(line) + b") Tj" for line in lines)
    return b"BT /F1 11 Tf 14 TL 72 740 Td\n" + body + b"\nET"


_IMAGE_STREAM = b"q 200 0 0 200 72 500 cm /Im1 Do Q"


def _pdf(page_streams: list[bytes | None], title: str | None) -> bytes:
    """A complete PDF; a None page is an image-only (scanned) page."""
    objects: list[bytes] = []  # object i+1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = add(
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length 4 >>\nstream\n\x00\xff\xff\x00\nendstream"
    )
    kids = []
    for stream in page_streams:
        content = _IMAGE_STREAM if stream is None else stream
        contents = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>"
                % (pages, contents, font, image)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    kid_refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[pages - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kid_refs, len(kids))
    info = add(b"<< /Title (" + _escape(title) + b") /Producer (pdf_factory) >>") if title else 0
    return _serialise(objects, catalog, info)


def _serialise(objects: list[bytes], root: int, info: int) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    trailer = b"/Size %d /Root %d 0 R" % (len(objects) + 1, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_text_pdf(path: str | Path, pages: list[str], title: str | None = None) -> Path:
    """Writes a PDF with one page of Helvetica text per item of `pages`; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_pdf([_text_stream(text) for text in pages], title))
    return path


def make_image_pdf(path: str | Path, n_pages: int = 1) -> Path:
    """A "scanned" PDF: pages holding only an image, no text layer."""
    path = Path(path)
    path.write_bytes(_pdf([None] * n_pages, title=None))
    return path


def make_encrypted_pdf(path: str | Path, pages: list[str], user_password: str = "secret") -> Path:
    """A text PDF encrypted with AES-256; an empty `user_password` opens without one."""
    from pypdf import PdfReader, PdfWriter

    path = Path(path)
    plain = make_text_pdf(path.with_suffix(".plain.pdf"), pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    with open(path, "wb") as f:
        writer.write(f)
    plain.unlink()
    return path


def make_truncated_pdf(path: str | Path, pages: list[str], keep: float = 0.5) -> Path:
    """A text PDF cut after `keep` of its bytes (an interrupted download)."""
    path = Path(path)
    data = _pdf([_text_stream(text) for text in pages], title=None)
    path.write_bytes(data[: int(len(data) * keep)])
    return path
