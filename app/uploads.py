"""Uploaded PDFs: validated (size, `%PDF-` signature), renamed safely, stored in `papers_dir()`.

The UI calls `save_uploads` before handing the stored paths to `ingest.pipeline.ingest_sources`,
the same function the CLI uses.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app.errors import UserError
from ingest.paths import papers_dir

logger = logging.getLogger(__name__)

PDF_SIGNATURE = b"%PDF-"
SIGNATURE_WINDOW = 1024  # readers accept the signature within the first KiB (PDF 32000, 7.5.2)
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(UserError):
    """An upload was refused; the message names the file and says what to do."""


class UploadedFile(Protocol):
    """What Streamlit's `UploadedFile` offers and `save_uploads` needs."""

    name: str

    def getvalue(self) -> bytes: ...


@dataclass
class SavedUploads:
    paths: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per refused file


def max_upload_bytes() -> int:
    """The size limit: `$XRAG_MAX_UPLOAD_MB` megabytes, else ingestion's own (50 MB)."""
    from ingest.settings import IngestSettings

    default = IngestSettings().max_bytes
    raw = os.environ.get("XRAG_MAX_UPLOAD_MB", "").strip()
    if not raw:
        return default
    try:
        return int(float(raw) * 1024 * 1024)
    except ValueError:
        logger.warning("ignoring XRAG_MAX_UPLOAD_MB=%r (not a number)", raw)
        return default


def sanitize_filename(name: str) -> str:
    """A safe name ending in `.pdf`: no folders or dot-files, only ASCII letters, digits, ._-"""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFKD", base) if not unicodedata.combining(c))
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = re.sub(r"_{2,}", "_", stem)[: MAX_NAME_CHARS - 4] or "upload"
    return f"{stem}.pdf"


def validate_upload(name: str, data: bytes, max_bytes: int | None = None) -> None:
    """Raises `UploadError` when `data` is empty, too large or not a PDF."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if not data:
        raise UploadError(f"{name}: the file is empty; choose a PDF with content")
    if len(data) > limit:
        size, cap = len(data) / 2**20, limit / 2**20
        msg = f"{name}: {size:.1f} MB is over the {cap:.0f} MB limit; upload a smaller PDF"
        raise UploadError(msg)
    if PDF_SIGNATURE not in data[:SIGNATURE_WINDOW]:
        msg = f"{name}: not a PDF (no %PDF- signature); upload the paper as a .pdf file"
        raise UploadError(msg)


def store_upload(name: str, data: bytes, dest_dir: Path | None = None) -> Path:
    """Writes `data` atomically under `dest_dir` (default `papers_dir()`) with a sanitized name.

    The same content uploaded again reuses its file; a different file with the same name gets a
    numbered name ("paper-2.pdf") instead of overwriting.
    """
    folder = Path(dest_dir) if dest_dir is not None else papers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / sanitize_filename(name)
    digest = hashlib.sha256(data).hexdigest()
    number = 1
    while target.exists():
        if hashlib.sha256(target.read_bytes()).hexdigest() == digest:
            return target
        number += 1
        target = folder / f"{Path(sanitize_filename(name)).stem}-{number}.pdf"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("stored upload %s (%d bytes)", target, len(data))
    return target


def save_uploads(
    files: Iterable[UploadedFile], max_bytes: int | None = None, dest_dir: Path | None = None
) -> SavedUploads:
    """Validates and stores every file; refused files are reported, never raised."""
    saved = SavedUploads()
    for file in files:
        data = file.getvalue()
        try:
            validate_upload(file.name, data, max_bytes)
            saved.paths.append(store_upload(file.name, data, dest_dir))
        except UploadError as e:
            saved.errors.append(str(e))
        except OSError as e:
            saved.errors.append(
                f"{file.name}: could not be stored ({e.strerror}); check disk space"
            )
    return saved
