"""The paper store: listing, removal, visibility, versions, model checks, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from langchain_core.documents import Document

from ingest.errors import EmbeddingMismatchError, StoreError
from ingest.pipeline import ingest_sources
from ingest.registry import PENDING, PaperRecord
from ingest.settings import IngestSettings
from ingest.store import PaperInfo, open_store
from tests.ingest.fakes import OtherFakeEmbeddings, paper_pages
from tests.ingest.pdf_factory import make_text_pdf


def _paper(tmp_path: Path, name: str, topic: str, title: str, pages: int = 3) -> Path:
    return make_text_pdf(tmp_path / name, paper_pages(topic, pages), title=title)


def test_ingest_list_and_documents(tmp_path: Path, store) -> None:
    pdf = _paper(tmp_path, "zebra-2301.01234v1.pdf", "zebras", "Zebra Stripes Explained")
    report = ingest_sources([str(pdf)], store)
    assert report.ok, report.errors
    [info] = store.list_papers()
    assert isinstance(info, PaperInfo)
    assert (info.source, info.title, info.arxiv_id, info.pages) == (
        "zebra-2301.01234v1.pdf",
        "Zebra Stripes Explained",
        "2301.01234v1",
        3,
    )
    docs = store.all_documents()
    assert len(docs) == info.chunks == report.results[0].chunks_added
    first = docs[0]
    assert first.id == first.metadata["chunk_id"] == f"{info.paper_id}:p1:c0000"
    assert {
        k: first.metadata[k]
        for k in ("source", "arxiv_id", "title", "page", "chunk_index", "paper_id")
    } == {
        "source": "zebra-2301.01234v1.pdf",
        "arxiv_id": "2301.01234v1",
        "title": "Zebra Stripes Explained",
        "page": 1,
        "chunk_index": 0,
        "paper_id": info.paper_id,
    }
    assert len(first.metadata["content_hash"]) == 16 and "section" in first.metadata
    assert [d.metadata["chunk_index"] for d in docs] == list(range(len(docs)))
    assert all(len(d.page_content) <= 300 for d in docs)


def test_similarity_search_returns_whole_metadata(tmp_path: Path, store) -> None:
    ingest_sources([str(_paper(tmp_path, "a.pdf", "zebras", "Zebra Stripes Explained"))], store)
    ingest_sources([str(_paper(tmp_path, "b.pdf", "glaciers", "Glacier Ice Cores"))], store)
    [(doc, score)] = store.vectorstore.similarity_search_with_relevance_scores("glaciers", k=1)
    assert doc.metadata["source"] == "b.pdf" and 0 < score <= 1
    by_id = {d.id: d for d in store.all_documents()}
    assert (
        Document(page_content=doc.page_content, metadata=doc.metadata, id=doc.id) == by_id[doc.id]
    )


def test_reingest_same_file_adds_nothing(tmp_path: Path, store) -> None:
    pdf = _paper(tmp_path, "a.pdf", "zebras", "Zebra Stripes Explained")
    first = ingest_sources([str(pdf)], store)
    version = store.version()
    again = ingest_sources([str(pdf)], store)
    [result] = again.results
    assert (result.status, result.chunks_added) == ("skipped", 0)
    assert result.chunks_skipped == first.results[0].chunks_added
    assert store.version() == version and store.count_chunks() == result.chunks_skipped


def test_new_version_replaces_old(tmp_path: Path, store) -> None:
    v1 = _paper(tmp_path, "zebra-2301.01234v1.pdf", "zebras", "Zebra Stripes Explained")
    v2 = _paper(tmp_path, "zebra-2301.01234v2.pdf", "striped horses", "Zebra Stripes Explained", 4)
    ingest_sources([str(v1)], store)
    old_version = store.version()
    report = ingest_sources([str(v2)], store)
    [result] = report.results
    assert result.status == "replaced" and result.chunks_replaced > 0
    [info] = store.list_papers()
    assert info.arxiv_id == "2301.01234v2" and info.pages == 4
    assert store.count_chunks() == info.chunks  # old chunks are gone, not hidden
    assert {d.metadata["paper_id"] for d in store.all_documents()} == {info.paper_id}
    assert store.version() != old_version


def test_same_title_without_arxiv_id_replaces(tmp_path: Path, store) -> None:
    ingest_sources([str(_paper(tmp_path, "draft.pdf", "zebras", "Zebra Stripes Explained"))], store)
    ingest_sources([str(_paper(tmp_path, "final.pdf", "horses", "Zebra Stripes Explained"))], store)
    assert [p.source for p in store.list_papers()] == ["final.pdf"]


def test_other_chunking_of_same_file_replaces(tmp_path: Path, store, settings) -> None:
    pdf = _paper(tmp_path, "a.pdf", "zebras", "Zebra Stripes Explained")
    ingest_sources([str(pdf)], store)
    finer = IngestSettings(chunk_size=150, chunk_overlap=20, batch_size=16)
    [result] = ingest_sources([str(pdf)], store, finer).results
    assert result.status == "replaced"
    [info] = store.list_papers()
    assert info.chunks == result.chunks_added == store.count_chunks()


@pytest.mark.parametrize(
    "query",
    [
        "<paper_id>",
        "a-2301.01234v1.pdf",
        "a-2301.01234v1",
        "2301.01234",
        "arXiv:2301.01234v1",
        "zebra stripes explained",
    ],
)
def test_remove_paper_by_any_name(tmp_path: Path, store, query: str) -> None:
    pdf = _paper(tmp_path, "a-2301.01234v1.pdf", "zebras", "Zebra Stripes Explained")
    ingest_sources(
        [str(pdf), str(_paper(tmp_path, "keep.pdf", "glaciers", "Glacier Ice Cores"))], store
    )
    target = next(p for p in store.list_papers() if p.source == pdf.name)
    name = target.paper_id if query == "<paper_id>" else query
    assert store.remove_paper(name) == target.chunks
    assert [p.source for p in store.list_papers()] == ["keep.pdf"]
    assert all(d.metadata["source"] == "keep.pdf" for d in store.all_documents())
    assert store.count_chunks() == store.list_papers()[0].chunks
    assert store.remove_paper("no such paper") == 0


def test_pending_papers_are_invisible_and_purged_on_reopen(
    tmp_path,
    data_dir,
    settings,
    fake_embeddings,
) -> None:
    with open_store(settings, fake_embeddings) as store:
        ingest_sources([str(_paper(tmp_path, "a.pdf", "zebras", "Zebra Stripes Explained"))], store)
        visible = store.all_documents()
        # A half-written paper: a pending record and one chunk, as an interrupted run leaves it.
        store._registry.put(PaperRecord("deadbeef", "half.pdf", "Half", "", "x", 3, 10, PENDING))
        store._chunks.upsert(
            ids=["deadbeef:p1:c0000"],
            embeddings=[fake_embeddings.embed_query("zebras")],
            documents=["zebras zebras"],
            metadatas=[{"paper_id": "deadbeef", "page": 1}],
        )
        assert store.all_documents() == visible
        hits = store.vectorstore.similarity_search("zebras zebras", k=50)
        assert all(d.metadata["paper_id"] != "deadbeef" for d in hits)
        assert store.vectorstore.get(ids=["deadbeef:p1:c0000"])["ids"] == []
        assert [p.source for p in store.list_papers()] == ["a.pdf"]
    with open_store(settings, fake_embeddings) as store:
        assert store.count_chunks() == len(visible)
        assert store._registry.get("deadbeef") is None


def test_vectorstore_is_read_only(store) -> None:
    with pytest.raises(StoreError, match="read-only"):
        store.vectorstore.add_texts(["sneaky"])
    with pytest.raises(StoreError, match="read-only"):
        store.vectorstore.delete(ids=["x"])


def test_other_embedding_model_is_a_clear_error(
    tmp_path,
    data_dir,
    settings,
    fake_embeddings,
) -> None:
    with open_store(settings, fake_embeddings) as store:
        ingest_sources([str(_paper(tmp_path, "a.pdf", "zebras", "Zebra Stripes Explained"))], store)
    with pytest.raises(EmbeddingMismatchError, match="fake-hash-64.*not 'other-model'"):
        open_store(settings, OtherFakeEmbeddings())
    with open_store(settings, fake_embeddings) as store:  # the lock was released on the error
        assert len(store.list_papers()) == 1


def test_collection_metadata_records_model_and_space(store) -> None:
    meta = store._chunks.metadata
    assert meta["embedding_model"] == "fake-hash-64" and meta["embedding_dim"] == 64
    assert meta["hnsw:space"] == "cosine"


def test_threads_can_share_one_store(tmp_path: Path, store) -> None:
    pdfs = [_paper(tmp_path, f"p{i}.pdf", f"topic{i}", f"Paper Number {i} Title") for i in range(4)]
    errors: list[BaseException] = []

    def work(pdf: Path) -> None:
        try:
            assert ingest_sources([str(pdf)], store).ok
            store.vectorstore.similarity_search("topic1", k=3)
            store.all_documents()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(p,)) for p in pdfs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.list_papers()) == 4
    assert store.count_chunks() == sum(p.chunks for p in store.list_papers())


def test_same_process_may_reopen_while_open(data_dir, settings, fake_embeddings) -> None:
    with (
        open_store(settings, fake_embeddings) as first,
        open_store(settings, fake_embeddings) as second,
    ):
        assert first.lock.pid == second.lock.pid
    with open_store(settings, fake_embeddings) as third:  # released after both closed
        assert third.lock.first
