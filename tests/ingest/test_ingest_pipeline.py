"""Pipeline details: progress callbacks, failures mid-write, embeddings loading."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.pipeline import ingest_sources
from tests.ingest.fakes import paper_pages
from tests.ingest.pdf_factory import make_text_pdf


def test_progress_is_reported_with_keywords(tmp_path: Path, store) -> None:
    pdf = make_text_pdf(tmp_path / "a.pdf", paper_pages("zebras", 4), title="Zebra Stripes")
    calls: list[dict] = []
    report = ingest_sources([str(pdf)], store, progress=lambda **kw: calls.append(kw))
    assert calls[0]["stage"] == "extract" and calls[0]["source"] == "a.pdf"
    embeds = [c for c in calls if c["stage"] == "embed"]
    assert embeds[-1]["done"] == embeds[-1]["total"] == report.results[0].chunks_added
    assert all(isinstance(c["message"], str) for c in calls)


def test_failure_while_writing_keeps_the_old_version(
    tmp_path: Path,
    store,
    fake_embeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v1 = make_text_pdf(
        tmp_path / "z-2301.01234v1.pdf", paper_pages("zebras"), title="Zebra Stripes"
    )
    assert ingest_sources([str(v1)], store).ok
    before = store.all_documents()
    v2 = make_text_pdf(
        tmp_path / "z-2301.01234v2.pdf", paper_pages("horses", 5), title="Zebra Stripes"
    )
    calls = 0
    real = fake_embeddings.embed_documents

    def flaky(texts: list[str]) -> list[list[float]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("out of memory")
        return real(texts)

    monkeypatch.setattr(fake_embeddings, "embed_documents", flaky)
    report = ingest_sources([str(v2)], store, replace(store.settings, batch_size=4))
    assert not report.ok and "RuntimeError: out of memory" in report.errors[0]
    assert store.all_documents() == before  # old version intact and alone
    assert store.count_chunks() == len(before)  # the partial new version was cleaned up


def test_report_summary_and_errors(tmp_path: Path, store) -> None:
    pdf = make_text_pdf(tmp_path / "a.pdf", paper_pages("zebras"), title="Zebra Stripes")
    report = ingest_sources([str(pdf), str(tmp_path / "gone.pdf"), str(pdf)], store)
    assert [r.status for r in report.results] == ["added", "failed", "duplicate"]
    assert report.errors == [
        f"{tmp_path / 'gone.pdf'}: no such file (pass a PDF path, an http(s) URL or an arXiv id)"
    ]
    assert report.summary().startswith("1 paper, 3 pages: ")


@pytest.mark.slow  # imports sentence-transformers
def test_unknown_embedding_model_is_a_clear_error() -> None:
    from ingest.embeddings import load_embeddings

    with pytest.raises(IngestError, match="cannot load embedding model '/nonexistent/model'"):
        load_embeddings("/nonexistent/model")


def test_lazy_embeddings_know_the_default_model_without_loading_it() -> None:
    from ingest.embeddings import DEFAULT_MODEL_NAME, LazyEmbeddings, dimension, model_name

    lazy = LazyEmbeddings()
    assert (model_name(lazy), dimension(lazy)) == (DEFAULT_MODEL_NAME, 384)
