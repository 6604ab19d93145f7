"""Server mode: CHROMA_HOST/CHROMA_PORT → HttpClient; several stores share one server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_sources
from ingest.store import open_store
from tests.ingest.fakes import paper_pages
from tests.ingest.pdf_factory import make_text_pdf

pytestmark = pytest.mark.slow
CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    executable = str(CHROMA) if CHROMA.exists() else shutil.which("chroma")
    if executable is None:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    log = open(tmp_path / "chroma.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            executable,
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "chroma.log").read_text()
                assert time.monotonic() < deadline, "the chroma server did not start"
                time.sleep(0.2)
        monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("CHROMA_PORT", str(port))
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_two_stores_share_the_server(tmp_path, chroma_server, settings, fake_embeddings) -> None:
    pdf = make_text_pdf(tmp_path / "zebras.pdf", paper_pages("zebras"), title="Zebra Stripes")
    with (
        open_store(settings, fake_embeddings) as writer,
        open_store(settings, fake_embeddings) as reader,
    ):
        assert writer.lock is None and writer.location == chroma_server
        assert ingest_sources([str(pdf)], writer).ok
        [info] = reader.list_papers()
        assert info.source == "zebras.pdf"
        assert reader.version() == writer.version()
        hits = reader.vectorstore.similarity_search("zebras", k=2)
        assert [h.metadata["source"] for h in hits] == ["zebras.pdf", "zebras.pdf"]
        assert len(reader.all_documents()) == info.chunks
        assert writer.remove_paper("zebras.pdf") == info.chunks
        assert reader.list_papers() == []


def test_unreachable_server_is_a_clear_error(
    data_dir, settings, fake_embeddings, monkeypatch
) -> None:
    from ingest.errors import StoreError

    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(_free_port()))
    with pytest.raises(StoreError, match="cannot use the Chroma server at http://127.0.0.1:"):
        open_store(settings, fake_embeddings)
