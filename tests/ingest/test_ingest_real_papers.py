"""Integration: the real papers from the mirror (skipped only when no mirror is present)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import PaperMeta, chunk_pages
from ingest.pdf_text import extract_pages
from ingest.pipeline import ingest_sources
from tests.ingest.conftest import XLSTM_V1, XLSTM_V2, mirror_paper

pytestmark = pytest.mark.integration


def test_xlstm_text_is_clean(xlstm_content) -> None:
    content = xlstm_content
    assert content.num_pages == 55  # pages 45-55 hold nothing but Table 10's rows:
    assert [p.page for p in content.pages] == list(range(1, 45))  # no text page of their own
    assert content.arxiv_id == "2405.04517v2"  # from the margin stamp, which is removed
    assert content.title == "xLSTM: Extended Long Short-Term Memory"
    text = "\n".join(p.text for p in content.pages)
    assert "arXiv:2405.04517" not in text and "[cs.LG]" not in text
    assert "Schmidhuber" in text and "Schmid- huber" not in text  # line-end hyphenation joined
    assert "xLSTM[7:1]" in text and "long-range" in text.lower()  # real hyphens and names kept
    assert "\ufb01" not in text  # ligatures normalised
    assert not any(re.fullmatch(r"\d{1,2}", p.text.rsplit("\n", 1)[-1]) for p in content.pages)


def test_xlstm_sections_and_ablation_page(xlstm_content) -> None:
    pages = {p.page: p for p in xlstm_content.pages}
    assert pages[2].heading == "1 Introduction"
    assert "2.4 xLSTM Architecture" in [h for _, h in pages[5].sections]
    assert pages[10].heading == "4.2 Method Comparison and Ablation Study"
    meta = PaperMeta("p", XLSTM_V2, "sha", "xLSTM", "2405.04517v2", 55)
    chunks = chunk_pages(xlstm_content.pages, meta, 500, 100, xlstm_content.tables)
    [ablation] = [
        c for c in chunks if "2417.86" in c.page_content and c.metadata["kind"] != "table"
    ]
    assert ablation.metadata["kind"] == "table_row"
    assert ablation.metadata["page"] == 10
    assert ablation.metadata["section"] == "4.2 Method Comparison and Ablation Study"
    assert all(len(c.page_content) <= 500 for c in chunks if not c.metadata["kind"].startswith("t"))


def test_new_version_of_the_xlstm_paper_replaces_the_old(store) -> None:
    v1, v2 = mirror_paper(XLSTM_V1), mirror_paper(XLSTM_V2)
    first = ingest_sources([str(v1)], store)
    assert first.ok and first.results[0].status == "added"
    second = ingest_sources([str(v2)], store)
    [result] = second.results
    assert result.status == "replaced"
    assert result.chunks_replaced == first.results[0].chunks_added
    [paper] = store.list_papers()
    assert (paper.source, paper.arxiv_id) == (XLSTM_V2, "2405.04517v2")
    assert store.count_chunks() == paper.chunks == result.chunks_added
    assert {d.metadata["source"] for d in store.all_documents()} == {XLSTM_V2}


@pytest.mark.parametrize(
    ("name", "expected", "absent"),
    [
        ("griffin-2402.19427.pdf", "Mixing Gated Linear Recurrences", "MixingGatedLinear"),
        ("lstm-hochreiter1997.pdf", "insufficient, decaying error back flow", "/(/1"),
        ("zamba-2405.16712.pdf", "Zamba", None),
    ],
)
def test_hard_papers(name: str, expected: str, absent: str | None) -> None:
    text = "\n".join(p.text for p in extract_pages(mirror_paper(name)))
    assert expected in text
    if absent:
        assert absent not in text
    if name.startswith("lstm"):
        assert text.count("/") / len(text) < 0.002  # was 9 % stray slashes


@pytest.mark.slow
def test_real_embeddings_find_the_ablation_page(tmp_path: Path, data_dir: Path) -> None:
    """MiniLM end to end on 6 pages of the xLSTM paper (kept short for CI)."""
    from pypdf import PdfReader, PdfWriter

    from ingest.embeddings import load_embeddings
    from ingest.settings import IngestSettings
    from ingest.store import open_store

    reader = PdfReader(mirror_paper(XLSTM_V2))
    writer = PdfWriter()
    for index in (0, 1, 4, 8, 9, 10):  # physical pages 1, 2, 5, 9, 10, 11
        writer.add_page(reader.pages[index])
    part = tmp_path / "xlstm-2405.04517v2-part.pdf"
    writer.write(part)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:  # one shared instance, however many threads ask
        models = list(pool.map(lambda _: load_embeddings(), range(4)))
    assert all(m is models[0] for m in models)
    assert load_embeddings("sentence-transformers/all-MiniLM-L6-v2") is models[0]
    with open_store(IngestSettings(), models[0]) as store:
        assert ingest_sources([str(part)], store).ok
        hits = store.vectorstore.similarity_search(
            "ablation: vanilla LSTM perplexity when adding exponential gating and matrix memory",
            k=5,
        )
        assert 5 in [h.metadata["page"] for h in hits]  # page 10 of the paper is page 5 here
        assert store._chunks.metadata["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
        assert store._chunks.metadata["embedding_dim"] == 384
