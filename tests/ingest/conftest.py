"""Fixtures for the ingest tests: a temporary data dir, fake embeddings, an open store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.settings import IngestSettings
from tests.conftest import mirror_pdf
from tests.ingest.fakes import FakeEmbeddings

XLSTM_V2 = "xlstm-2405.04517v2.pdf"
XLSTM_V1 = "xlstm-2405.04517v1.pdf"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XRAG_DATA_DIR; no Chroma server; downloads go nowhere (closed port)."""
    root = tmp_path / "data"
    monkeypatch.setenv("XRAG_DATA_DIR", str(root))
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    monkeypatch.delenv("CHROMA_PORT", raising=False)
    monkeypatch.setenv("XRAG_ARXIV_URL", "http://127.0.0.1:9/pdf")
    return root


@pytest.fixture
def fake_embeddings() -> FakeEmbeddings:
    return FakeEmbeddings()


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch, fake_embeddings: FakeEmbeddings) -> FakeEmbeddings:
    """Code that loads embeddings by name (the CLI, open_store without embeddings) gets fakes."""
    from ingest import cli

    monkeypatch.setattr("ingest.embeddings.load_embeddings", lambda name=None: fake_embeddings)
    monkeypatch.setattr(cli, "LazyEmbeddings", lambda name=None: fake_embeddings)
    return fake_embeddings


@pytest.fixture
def settings() -> IngestSettings:
    return IngestSettings(chunk_size=300, chunk_overlap=50, batch_size=16)


@pytest.fixture
def store(data_dir: Path, settings: IngestSettings, fake_embeddings: FakeEmbeddings) -> Iterator:
    from ingest.store import open_store

    with open_store(settings, fake_embeddings) as opened:
        yield opened


def mirror_paper(name: str) -> Path:
    """A real paper from the mirror; skips the test when no mirror has it (CI has one)."""
    path = mirror_pdf(name)
    if path is None:
        pytest.skip(f"{name} is not in any paper mirror ($XRAG_PAPER_MIRRORS)")
    return path


@pytest.fixture(scope="session")
def xlstm_content():
    """The cleaned xLSTM v2 paper (extracted once per session: ~4 s)."""
    from ingest.pdf_text import read_pdf

    return read_pdf(mirror_paper(XLSTM_V2))
