"""The manifest, finding papers locally or in mirrors, and downloads (against a local server)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ingest import cli, fetch, manifest
from ingest.arxiv import base_id, id_in_file_name, parse_arxiv_id
from ingest.errors import FetchError, IngestError
from tests.ingest.http_fixture import serve
from tests.ingest.pdf_factory import make_text_pdf

SHARED_MANIFEST = Path(__file__).resolve().parents[3] / "shared" / "papers" / "MANIFEST.tsv"


def test_manifest_lists_the_store_paper_and_the_corpus() -> None:
    entries = manifest.load_manifest()
    [store_paper] = manifest.entries_for("store")
    assert (store_paper.file, store_paper.arxiv_id) == ("xlstm-2405.04517v2.pdf", "2405.04517v2")
    assert store_paper.url == "https://arxiv.org/pdf/2405.04517v2"
    assert all(len(e.sha256) == 64 and e.url.startswith("https://") for e in entries)
    assert all(e.url == f"https://arxiv.org/pdf/{e.arxiv_id}" for e in entries if e.arxiv_id)
    assert "xlstm-2405.04517v1.pdf" not in {e.file for e in entries}
    assert len(manifest.entries_for("corpus")) == len(entries) - 1


@pytest.mark.skipif(not SHARED_MANIFEST.is_file(), reason="no shared paper mirror")
def test_manifest_matches_the_shared_mirror() -> None:
    lines = SHARED_MANIFEST.read_text().splitlines()[1:]
    shared = {cols[0]: cols[5] for cols in (ln.split("\t") for ln in lines)}
    ours = {e.file: e.sha256 for e in manifest.load_manifest()}
    assert ours == {f: sha for f, sha in shared.items() if f != "xlstm-2405.04517v1.pdf"}


def test_arxiv_ids() -> None:
    assert parse_arxiv_id("arXiv:2405.04517v2") == "2405.04517v2"
    assert parse_arxiv_id("2405.04517") == "2405.04517"
    assert parse_arxiv_id("https://arxiv.org/abs/2405.04517v1") == "2405.04517v1"
    assert parse_arxiv_id("https://arxiv.org/pdf/2405.04517.pdf") == "2405.04517"
    assert parse_arxiv_id("hep-th/9901001v3") == "hep-th/9901001v3"
    assert parse_arxiv_id("2405.0451x") is None and parse_arxiv_id("paper.pdf") is None
    assert base_id("2405.04517v2") == "2405.04517"
    assert id_in_file_name("xlstm-2405.04517v2.pdf") == "2405.04517v2"
    assert manifest.find_by_arxiv_id("2405.04517").file == "xlstm-2405.04517v2.pdf"
    assert manifest.find_by_arxiv_id("2405.04517v1") is None


@pytest.fixture
def fake_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A one-paper manifest (role store) whose PDF the tests serve or place; returns its bytes."""
    pdf = make_text_pdf(
        tmp_path / "src" / "tiny-2301.00001v1.pdf", ["Tiny paper text."], title="Tiny Paper"
    )
    data = pdf.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / "manifest.tsv"
    path.write_text(
        "file\tarxiv_id\ttitle\turl\tsha256\trole\n"
        f"tiny-2301.00001v1.pdf\t2301.00001v1\tTiny Paper\thttps://arxiv.org/pdf/2301.00001v1"
        f"\t{sha}\tstore\n"
    )
    monkeypatch.setattr(manifest, "MANIFEST_PATH", path)
    monkeypatch.setenv("XRAG_PAPER_MIRRORS", "")
    return data


def test_data_papers_first_then_mirrors(tmp_path, data_dir, fake_manifest, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tiny-2301.00001v1.pdf").write_bytes(fake_manifest)
    monkeypatch.setenv("XRAG_PAPER_MIRRORS", f"/nonexistent{os.pathsep}{mirror}")
    assert fetch.resolve_default_papers("store") == [mirror / "tiny-2301.00001v1.pdf"]
    local = data_dir / "papers" / "tiny-2301.00001v1.pdf"
    local.parent.mkdir(parents=True)
    local.write_bytes(fake_manifest)
    assert fetch.resolve_default_papers("store") == [local]
    local.write_bytes(b"%PDF-1.4 tampered")  # a wrong copy is skipped, not trusted
    assert fetch.resolve_default_papers("store") == [mirror / "tiny-2301.00001v1.pdf"]


def test_cli_without_sources_ingests_the_store_papers(
    tmp_path,
    data_dir,
    fake_manifest,
    fake_models,
    monkeypatch,
    capsys,
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tiny-2301.00001v1.pdf").write_bytes(fake_manifest)
    monkeypatch.setenv("XRAG_PAPER_MIRRORS", str(mirror))
    assert cli.main(["-q"]) == 0
    assert "added tiny-2301.00001v1.pdf (Tiny Paper)" in capsys.readouterr().out
    assert cli.main(["--list"]) == 0
    assert "2301.00001v1" in capsys.readouterr().out


def test_download_verifies_sha_and_saves(data_dir, fake_manifest, monkeypatch) -> None:
    with serve({"/pdf/2301.00001v1": fake_manifest}) as base:
        monkeypatch.setenv("XRAG_ARXIV_URL", f"{base}/pdf")
        [path] = fetch.resolve_default_papers("store")
    assert path == data_dir / "papers" / "tiny-2301.00001v1.pdf"
    assert path.read_bytes() == fake_manifest
    assert list(path.parent.iterdir()) == [path]  # no partial files left


def test_download_with_wrong_sha_is_rejected(data_dir, fake_manifest, monkeypatch) -> None:
    other = make_text_pdf(data_dir.parent / "other.pdf", ["Different text."]).read_bytes()
    with serve({"/pdf/2301.00001v1": other}) as base:
        monkeypatch.setenv("XRAG_ARXIV_URL", f"{base}/pdf")
        with pytest.raises(FetchError, match="has sha256 .*expected") as info:
            fetch.resolve_default_papers("store")
    assert "tiny-2301.00001v1.pdf" in str(info.value)
    assert not any((data_dir / "papers").iterdir())


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "HTTP 404"),
        ({"/pdf/2301.00001v1": b"<html>rate limited</html>"}, "did not return a PDF"),
    ],
    ids=["404", "html"],
)
def test_download_errors_are_clean(data_dir, fake_manifest, monkeypatch, files, reason) -> None:
    with serve(files) as base:
        monkeypatch.setenv("XRAG_ARXIV_URL", f"{base}/pdf")
        with pytest.raises(FetchError, match=reason) as info:
            fetch.resolve_default_papers("store")
    assert "\n" not in str(info.value)


def test_offline_without_mirror_says_where_to_put_the_file(data_dir, fake_manifest, capsys) -> None:
    # XRAG_ARXIV_URL points at a closed port (see conftest): like having no network.
    assert cli.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cannot reach" in err and str(data_dir / "papers") in err
    assert "XRAG_PAPER_MIRRORS" in err and "tiny-2301.00001v1.pdf" in err


def test_sources_by_url_and_arxiv_id(tmp_path, data_dir, monkeypatch) -> None:
    monkeypatch.setenv("XRAG_PAPER_MIRRORS", "")
    data = make_text_pdf(tmp_path / "x.pdf", ["Served paper."]).read_bytes()
    with serve({"/files/My%20Paper.pdf": data, "/pdf/2301.99999": data}) as base:
        monkeypatch.setenv("XRAG_ARXIV_URL", f"{base}/pdf")
        by_url = fetch.resolve_source(f"{base}/files/My%20Paper.pdf")
        by_id = fetch.resolve_source("arXiv:2301.99999")
    assert by_url == data_dir / "papers" / "My_Paper.pdf" and by_url.read_bytes() == data
    assert by_id == data_dir / "papers" / "2301.99999.pdf" and by_id.read_bytes() == data


def test_bad_sources(data_dir) -> None:
    with pytest.raises(IngestError, match="'2405.0451x' is not a valid arXiv id"):
        fetch.resolve_source("2405.0451x")
    with pytest.raises(IngestError, match="nothere.pdf: no such file"):
        fetch.resolve_source("nothere.pdf")
    with pytest.raises(FetchError, match="cannot reach http://127.0.0.1:9/x.pdf"):
        fetch.resolve_source("http://127.0.0.1:9/x.pdf")


def test_default_papers_for_the_trainer_come_from_the_mirror() -> None:
    if not os.environ.get("XRAG_PAPER_MIRRORS"):
        pytest.skip("no paper mirror")
    paths = fetch.resolve_default_papers()
    assert [p.name for p in paths] == [e.file for e in manifest.load_manifest()]
    assert fetch.resolve_default_papers("store")[0].name == "xlstm-2405.04517v2.pdf"
