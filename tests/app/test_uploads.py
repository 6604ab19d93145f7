"""Upload validation and storage: size limit, %PDF- signature, safe names, no overwrites."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.errors import UserError
from app.uploads import (
    UploadError,
    max_upload_bytes,
    sanitize_filename,
    save_uploads,
    store_upload,
    validate_upload,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class FakeUpload:
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("paper.pdf", "paper.pdf"),
        ("My Paper (v2).PDF", "My_Paper_v2.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("Über–résumé.pdf", "Uber_resume.pdf"),
        ("", "upload.pdf"),
        ("....pdf", "upload.pdf"),
        ("a\x00b\nc.pdf", "a_b_c.pdf"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_sanitize_filename_limits_length() -> None:
    name = sanitize_filename("x" * 500 + ".pdf")
    assert len(name) <= 120 and name.endswith(".pdf")


def test_validate_accepts_pdf() -> None:
    validate_upload("ok.pdf", PDF, max_bytes=1024)
    validate_upload("junk-before.pdf", b"\n" * 10 + PDF, max_bytes=1024)


@pytest.mark.parametrize(
    ("data", "limit", "needle"),
    [
        (b"", 1024, "empty"),
        (PDF + b"0" * 2048, 1024, "over the"),
        (b"<html>not a pdf</html>", 1024, "not a PDF"),
        (b"PK\x03\x04" + b"0" * 100, 1024, "not a PDF"),
    ],
)
def test_validate_refuses(data: bytes, limit: int, needle: str) -> None:
    with pytest.raises(UploadError, match=needle) as info:
        validate_upload("bad.pdf", data, max_bytes=limit)
    assert isinstance(info.value, UserError)
    assert "\n" not in str(info.value) and "bad.pdf" in str(info.value)


def test_size_limit_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XRAG_MAX_UPLOAD_MB", raising=False)
    assert max_upload_bytes() == 50 * 1024 * 1024
    monkeypatch.setenv("XRAG_MAX_UPLOAD_MB", "2")
    assert max_upload_bytes() == 2 * 1024 * 1024
    with pytest.raises(UploadError, match="over the 2 MB limit"):
        validate_upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024))
    monkeypatch.setenv("XRAG_MAX_UPLOAD_MB", "lots")
    assert max_upload_bytes() == 50 * 1024 * 1024


def test_store_upload_goes_to_papers_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAG_DATA_DIR", str(tmp_path))
    path = store_upload("../My Paper.pdf", PDF)
    assert path == tmp_path / "papers" / "My_Paper.pdf"
    assert path.read_bytes() == PDF
    assert not list(path.parent.glob(".upload-*"))  # no temp file left behind


def test_store_upload_reuses_same_content_and_never_overwrites(tmp_path: Path) -> None:
    first = store_upload("paper.pdf", PDF, tmp_path)
    assert store_upload("paper.pdf", PDF, tmp_path) == first
    other = store_upload("paper.pdf", PDF + b"% other\n", tmp_path)
    assert other == tmp_path / "paper-2.pdf"
    assert first.read_bytes() == PDF


def test_save_uploads_collects_errors(tmp_path: Path) -> None:
    files = [FakeUpload("good.pdf", PDF), FakeUpload("bad.pdf", b"hello"), FakeUpload("e.pdf", b"")]
    saved = save_uploads(files, max_bytes=1024, dest_dir=tmp_path)
    assert saved.paths == [tmp_path / "good.pdf"]
    assert len(saved.errors) == 2
    assert saved.errors[0].startswith("bad.pdf:") and saved.errors[1].startswith("e.pdf:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pdf"]
