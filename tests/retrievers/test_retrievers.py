import pytest
from langchain_core.documents import Document

from ingest.sentences import split_sentences
from retrievers import RETRIEVER_NAMES, RetrieverSettings, build_retriever
from retrievers.cache import CachedEmbeddings
from retrievers.hybrid import BM25Index, bm25_tokens, reciprocal_rank_fusion
from tests.helpers.fake_store import FakePaperStore, HashEmbeddings


@pytest.fixture()
def store():
    return FakePaperStore()


@pytest.mark.parametrize("name", RETRIEVER_NAMES)
def test_every_retriever_returns_scored_documents_with_page_metadata(store, name):
    retriever = build_retriever(name, store, RetrieverSettings(k=3, compression_threshold=0.1))
    docs = retriever.invoke("What is the matrix memory of the mLSTM?")
    # compression hands sentences, `sentences_per_document` (2) for each of the k documents
    assert 0 < len(docs) <= (6 if name == "compression" else 3)
    for rank, doc in enumerate(docs, start=1):
        assert doc.metadata["source"] == "xlstm-2405.04517v2.pdf"
        assert isinstance(doc.metadata["page"], int)
        assert doc.metadata["chunk_id"]
        assert doc.metadata["rank"] == rank
        assert isinstance(doc.metadata["score"], float)
    assert docs[0].metadata["page"] == 5


def test_k_is_honoured(store):
    for k in (1, 2, 4):
        docs = build_retriever("similarity", store, RetrieverSettings(k=k)).invoke("memory")
        assert len(docs) == k


def test_compression_hands_k_times_sentences_per_document(store):
    def count(per_document: int) -> int:
        settings = RetrieverSettings(
            k=2, compression_threshold=0.0, sentences_per_document=per_document
        )
        return len(build_retriever("compression", store, settings).invoke("memory"))

    assert count(1) == 2 and count(2) == 4


def test_similarity_scores_descend(store):
    docs = build_retriever("similarity", store, RetrieverSettings(k=5)).invoke("sLSTM memory")
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_mmr_option_returns_k_distinct_chunks(store):
    settings = RetrieverSettings(k=3, use_mmr=True, fetch_k=5)
    docs = build_retriever("similarity", store, settings).invoke("memory mixing heads")
    assert len({d.metadata["chunk_id"] for d in docs}) == 3


def test_compression_keeps_relevant_sentences_only(store):
    settings = RetrieverSettings(k=5, compression_threshold=0.3)
    docs = build_retriever("compression", store, settings).invoke("covariance update rule")
    assert docs, "compression returned nothing"
    assert all(len(split_sentences(d.page_content)) == 1 for d in docs)
    assert "covariance update rule" in docs[0].page_content
    assert all("Cats" not in d.page_content for d in docs)


def test_compression_falls_back_to_best_sentences_when_filter_empties(store):
    settings = RetrieverSettings(k=5, compression_threshold=0.99, fallback_sentences=2)
    docs = build_retriever("compression", store, settings).invoke("covariance update rule")
    assert len(docs) == 2
    assert "covariance" in docs[0].page_content


def test_hybrid_finds_numbers_lexically(store):
    docs = build_retriever("hybrid", store, RetrieverSettings(k=2)).invoke(
        "Which value is 2417.86?"
    )
    assert docs[0].metadata["page"] == 10


def test_hybrid_skips_near_copies_of_a_chunk_it_already_returns(store):
    copy = "LSTM (Block) refers to an architecture where a vanilla LSTM replaces attention."
    store.add_pages({31: copy, 35: copy.replace("replaces", "is used instead of"), 36: copy})
    question = "Which architecture uses a vanilla LSTM block instead of attention?"
    pages = [d.metadata["page"] for d in build_retriever("hybrid", store).invoke(question)]
    assert sum(p in (31, 35, 36) for p in pages) == 1 and len(pages) == 5
    keep_all = RetrieverSettings(hybrid_max_overlap=1.0)
    pages = [
        d.metadata["page"] for d in build_retriever("hybrid", store, keep_all).invoke(question)
    ]
    assert sum(p in (31, 35, 36) for p in pages) == 3


def _docs(*names: str) -> list[Document]:
    return [Document(page_content=n, metadata={"chunk_id": n}) for n in names]


def test_fusion_puts_the_top_of_one_ranking_above_the_middle_of_both():
    """2nd in one 20-deep list beats 10th in both with the default constant, unlike with 60."""
    fillers = [f"f{i}" for i in range(9)]
    lexical = _docs(*fillers, "both")
    dense = _docs("x", "dense-only", *fillers[:7], "both")
    scores, docs = reciprocal_rank_fusion([lexical, dense], RetrieverSettings().rrf_k)
    assert scores["dense-only"] > scores["both"] and docs["both"].page_content == "both"
    scores, _ = reciprocal_rank_fusion([lexical, dense], 60)
    assert scores["dense-only"] < scores["both"]
    assert scores["f0"] == pytest.approx(1 / (60 + 1) + 1 / (60 + 3))


def test_bm25_tokens_keep_numbers_and_ratios():
    assert bm25_tokens("xLSTM[7:1] reaches 2417.86 on the 1.3B model") == [
        "xlstm",
        "7:1",
        "reaches",
        "2417.86",
        "1.3b",
        "model",
    ]


def test_bm25_index_looks_chunks_up_by_position(store):
    index = BM25Index(store)
    assert index.chunk("xlstm-2405.04517v2.pdf", 10).metadata["page"] == 10  # fake: index = page
    assert index.chunk("xlstm-2405.04517v2.pdf", 999) is None
    assert index.chunk("other.pdf", 10) is None


def test_bm25_index_rebuilds_when_store_changes(store):
    index = BM25Index(store)
    assert not index.search("zebra giraffe", 3)
    store.add_pages({20: "A zebra and a giraffe appear in no xLSTM experiment."})
    assert index.search("zebra giraffe", 3)[0][0].metadata["page"] == 20


def test_unknown_retriever_is_a_clear_error(store):
    with pytest.raises(ValueError, match="unknown retriever 'bm25'; choose one of"):
        build_retriever("bm25", store)


def test_cached_embeddings_embed_each_text_once(store):
    cached = CachedEmbeddings(store.embeddings)
    first = cached.embed_documents(["a b", "c d", "a b"])
    before = store.embeddings.calls
    second = cached.embed_documents(["c d", "a b"])
    assert store.embeddings.calls == before
    assert second == [first[1], first[0]]


def _row(model: str, value: str) -> Document:
    text = f"Table 1 (Method comparison on SlimPajama 15B): Model = {model}; ppl = {value}"
    return Document(page_content=text, metadata={"kind": "table_row", "page": 9})


class _SameVector(HashEmbeddings):
    """Embeds every text alike: the worst case of rows that differ only in their values."""

    def embed_documents(self, texts):
        return [[1.0, 0.0] for _ in texts]

    def embed_query(self, text):
        return [1.0, 0.0]


def test_redundancy_filter_keeps_every_row_of_a_table_but_drops_repeated_prose():
    from langchain_community.document_transformers import EmbeddingsRedundantFilter

    from retrievers.compression import RowKeepingRedundantFilter

    rows = [_row("GPT-3", "14.26"), _row("Llama", "14.25"), _row("Mamba", "13.70")]
    prose = [Document(page_content=t) for t in ("One sentence.", "Another sentence.")]
    inner = EmbeddingsRedundantFilter(embeddings=_SameVector(), similarity_threshold=0.95)
    kept = RowKeepingRedundantFilter(inner=inner).transform_documents([*prose, *rows, rows[0]])
    texts = [d.page_content for d in kept]
    assert len(texts) == 4 and texts[0] in ("One sentence.", "Another sentence.")  # one of two
    assert texts[1:] == [r.page_content for r in rows]  # every row once: a repeated row goes
    assert all("embedded_doc" in d.state for d in kept)  # the relevance filter reuses vectors


def test_compression_splits_prose_into_sentences_but_keeps_a_table_row_whole():
    from retrievers.sentences import SentenceSplitter

    row = _row("GPT-3", "14.26")
    row.page_content = "Table 1 (Results. Top: models.): Model = GPT-3; ppl = 14.26"
    prose = Document(page_content="First sentence here. Second sentence here.")
    texts = [d.page_content for d in SentenceSplitter().transform_documents([row, prose])]
    assert texts == [row.page_content, "First sentence here.", "Second sentence here."]
