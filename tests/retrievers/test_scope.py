"""Scoped retrieval over a two-paper store, and the papers a question names."""

import pytest
from langchain_core.documents import Document

from ingest.store import PaperInfo
from retrievers import RETRIEVER_NAMES, RetrieverSettings, build_retriever
from retrievers.hybrid import BM25Index
from retrievers.named import fuse_scoped
from retrievers.routing import PaperRouter, dominant_paper, paper_votes
from retrievers.scope import follow_up_scope, nickname, papers_named, short_name, source_filter
from tests.helpers.fake_store import MAMBA, MAMBA_PAGES, XLSTM, FakePaperStore

X, M = XLSTM[0], MAMBA[0]
LOOSE = {"compression_threshold": 0.05}  # the hashed fake embeddings give low cosines


@pytest.fixture()
def library():
    store = FakePaperStore()
    store.add_pages(MAMBA_PAGES, paper=MAMBA)
    return store


def _sources(docs) -> list[str]:
    return [d.metadata["source"] for d in docs]


@pytest.mark.parametrize("name", RETRIEVER_NAMES)
def test_every_retriever_keeps_to_its_scope(library, name):
    question = "What is the matrix memory?"  # both papers have one
    plain = RetrieverSettings(k=8, named_papers="off", route_share=2.0, **LOOSE)  # no routing
    unscoped = build_retriever(name, library, plain)
    assert {X, M} <= set(_sources(unscoped.invoke(question)))
    for paper in (X, M):
        scoped = build_retriever(name, library, RetrieverSettings(k=8, papers=(paper,), **LOOSE))
        docs = scoped.invoke(question)
        assert docs and set(_sources(docs)) == {paper}
        assert [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    both = build_retriever(name, library, RetrieverSettings(k=8, papers=(X, M), **LOOSE))
    assert set(_sources(both.invoke(question))) == {X, M}


@pytest.mark.parametrize("name", RETRIEVER_NAMES)
def test_a_scope_of_papers_not_in_the_store_finds_nothing(library, name):
    settings = RetrieverSettings(papers=("absent.pdf",), **LOOSE)
    assert build_retriever(name, library, settings).invoke("matrix memory") == []


def test_mmr_keeps_to_its_scope(library):
    settings = RetrieverSettings(k=3, fetch_k=5, use_mmr=True, papers=(M,))
    docs = build_retriever("similarity", library, settings).invoke("memory of the model")
    assert docs and set(_sources(docs)) == {M}


def test_one_bm25_index_serves_every_scope_without_rebuilding(library):
    index = BM25Index(library)
    everywhere = index.search("perplexity", 10)
    snapshot = index._current()
    assert {X, M} <= set(_sources(d for d, _ in everywhere))
    assert _sources(d for d, _ in index.search("perplexity", 10, (M,))) == [M]
    assert _sources(d for d, _ in index.search("perplexity", 10, (X,))) == [X]
    assert index.search("perplexity", 10, ("absent.pdf",)) == []
    assert index._current() is snapshot  # no rebuild for a scope
    hybrid = build_retriever("hybrid", library, RetrieverSettings(papers=(M,)), bm25_index=index)
    assert set(_sources(hybrid.invoke("Which perplexity is 8.69?"))) == {M}


def test_source_filter_is_a_chroma_in_filter():
    assert source_filter(()) is None
    assert source_filter((M, X, M)) == {"source": {"$in": sorted({M, X})}}


# -- the papers a question names ------------------------------------------------------------
def _info(source: str, title: str, arxiv_id: str = "") -> PaperInfo:
    return PaperInfo(source[:8], source, title, arxiv_id, 10, 100)


LIBRARY = [
    _info(X, XLSTM[1], XLSTM[2]),
    _info("xlstm-2405.04517v1.pdf", XLSTM[1], "2405.04517v1"),
    _info(M, MAMBA[1], MAMBA[2]),
    _info("lstm-hochreiter1997.pdf", "Long Short-Term Memory"),
    _info(
        "retnet-2307.08621.pdf",
        "Retentive Network: A Successor to Transformer for Large Language Models",
        "2307.08621v4",
    ),
    _info("attention-1706.03762.pdf", "Attention Is All You Need", "1706.03762v7"),
    _info("layernorm-1607.06450.pdf", "Layer Normalization", "1607.06450"),
    _info(
        "switch-2101.03961.pdf",
        "Switch Transformers: Scaling to Trillion Parameter Models "
        "with Simple and Efficient Sparsity",
        "2101.03961",
    ),
]
BOTH_XLSTM = (X, "xlstm-2405.04517v1.pdf")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does the xLSTM paper propose?", BOTH_XLSTM),
        ("Which tokenizer is used in xLSTM?", BOTH_XLSTM),
        ("What is xLSTM[7:1]?", BOTH_XLSTM),
        ("What does arXiv 2405.04517 report on Table 1?", BOTH_XLSTM),
        ("Summarise 2312.00752v1", (M,)),  # any version of the id
        ("How does xLSTM compare with Mamba?", (*BOTH_XLSTM, M)),
        ("What does Extended Long Short-Term Memory add?", BOTH_XLSTM),  # not the 1997 paper
        ("What did Long Short-Term Memory introduce in 1997?", ("lstm-hochreiter1997.pdf",)),
        ("What is retention in the RetNet paper?", ("retnet-2307.08621.pdf",)),
        ("What does Attention Is All You Need propose?", ("attention-1706.03762.pdf",)),
        ("What do Switch Transformers route?", ("switch-2101.03961.pdf",)),
        ("Which file is mamba-2312.00752.pdf?", (M,)),
        # topics, not names
        ("What are the three limitations of LSTMs?", ()),
        ("Why does attention scale quadratically?", ()),
        ("Is RetNet faster?", ()),  # a file-name nickname needs "paper"
        ("Which layer normalization is used?", ()),  # a 2-word title is a topic
        ("How does the sLSTM mix memory?", ()),
        ("What is 2405.04517999?", ()),
        ("", ()),
    ],
)
def test_papers_named(question, expected):
    assert papers_named(question, LIBRARY) == expected


def test_short_names_and_nicknames():
    assert short_name(XLSTM[1]) == "xlstm"
    assert short_name("Transformers are SSMs: Generalized Models") == "transformers are ssms"
    assert short_name("Train Short, Test Long: Attention with Linear Biases") == ""  # 4 words
    assert short_name("Layer Normalization") == ""
    assert short_name("A Rather Long Tagline Of Words: And More") == ""
    assert nickname("retnet-2307.08621.pdf") == "retnet"
    assert nickname("paper.pdf") == "" and nickname("2405.04517v2.pdf") == ""


def test_follow_up_questions_keep_the_previous_scope():
    previous = (M,)
    assert follow_up_scope("What do the authors conclude?", LIBRARY, previous) == previous
    assert follow_up_scope("Which datasets does the paper use?", LIBRARY, previous) == previous
    assert follow_up_scope("What do they propose next?", LIBRARY, previous) == previous
    assert follow_up_scope("What does the xLSTM paper conclude?", LIBRARY, previous) == BOTH_XLSTM
    assert follow_up_scope("Why is attention quadratic?", LIBRARY, previous) == ()
    assert follow_up_scope("What do the authors conclude?", LIBRARY, ()) == ()


# -- unscoped retrieval prefers the named paper ---------------------------------------------
@pytest.mark.parametrize("name", RETRIEVER_NAMES)
def test_unscoped_retrieval_keeps_to_a_named_paper(library, name):
    question = "What is the matrix memory in the Mamba paper?"
    off = build_retriever(name, library, RetrieverSettings(k=8, named_papers="off", **LOOSE))
    assert X in _sources(off.invoke(question))
    filtered = RetrieverSettings(k=8, named_papers="filter", route_share=2.0, **LOOSE)
    named = build_retriever(name, library, filtered)
    assert set(_sources(named.invoke(question))) == {M}
    boost = build_retriever(name, library, RetrieverSettings(k=8, named_papers="boost", **LOOSE))
    docs = boost.invoke(question)
    assert _sources(docs)[0] == M and X in _sources(docs)


def test_an_explicit_scope_wins_over_a_named_paper(library):
    settings = RetrieverSettings(k=8, papers=(X,))
    docs = build_retriever("similarity", library, settings).invoke("matrix memory in Mamba")
    assert set(_sources(docs)) == {X}


def test_unknown_named_papers_mode_is_a_clear_error(library):
    with pytest.raises(ValueError, match="unknown named_papers mode 'always'; choose one of"):
        build_retriever("similarity", library, RetrieverSettings(named_papers="always"))


def test_fuse_scoped_puts_scoped_first_and_keeps_strong_unscoped_evidence():
    def doc(name: str) -> Document:
        return Document(page_content=name, metadata={"chunk_id": name, "rank": 9})

    fused = fuse_scoped([doc("a"), doc("b")], [doc("z"), doc("a"), doc("y")], k=3)
    assert [d.page_content for d in fused] == ["a", "z", "b"]
    assert [d.metadata["rank"] for d in fused] == [1, 2, 3]


# -- routing a question that names no paper -------------------------------------------------
def _chunk(source: str) -> Document:
    return Document(page_content=source, metadata={"source": source})


def test_paper_votes_and_the_dominant_paper():
    votes = paper_votes([[_chunk("a"), _chunk("a"), _chunk("b")], [_chunk("b")]], rrf_k=0)
    assert votes == pytest.approx({"a": 1 + 1 / 2, "b": 1 / 3 + 1})
    assert dominant_paper(votes, 0.5) == "a"
    assert dominant_paper(votes, 0.6) is None
    assert dominant_paper({}, 0.1) is None


@pytest.mark.parametrize("name", RETRIEVER_NAMES)
def test_a_question_naming_no_paper_is_routed_to_the_paper_it_is_about(library, name):
    question = "What does the selective scan do with the memory state?"  # mostly Mamba words
    # 8 chunks in all; the even-share floor (0.75 with two papers) off
    routed = RetrieverSettings(k=8, route_share=0.6, route_depth=3, route_even_factor=0, **LOOSE)
    assert set(_sources(build_retriever(name, library, routed).invoke(question))) == {M}
    never = RetrieverSettings(k=8, route_share=2.0, **LOOSE)
    assert X in _sources(build_retriever(name, library, never).invoke(question))


def test_two_papers_need_a_clear_majority_before_routing(library):
    question = "What does the selective scan do with the memory state?"
    router = PaperRouter(library.vectorstore, BM25Index(library), 3, 5, 0.3, lambda: 2)
    assert router.share_needed() == 0.75
    assert PaperRouter(library.vectorstore, None, 3, 5, 0.3, lambda: 28).share_needed() == 0.3
    votes = router.votes(question)
    assert router.route(question) == ((M,) if votes[M] / sum(votes.values()) >= 0.75 else ())
    unscoped = build_retriever("similarity", library, RetrieverSettings(k=8, **LOOSE))
    assert {X, M} <= set(_sources(unscoped.invoke("What is the matrix memory?")))


def test_a_question_no_paper_dominates_stays_unscoped(library):
    router = PaperRouter(library.vectorstore, BM25Index(library), depth=8, min_share=0.9)
    assert router.route("What is the matrix memory?") == ()
    assert router.route("What does the selective scan do with the state space?") == ()
    assert PaperRouter(library.vectorstore, None, depth=8, min_share=2.0).route("scan") == ()


def test_the_routed_paper_joins_a_named_one(library):
    """Naming Mamba in a question about the xLSTM paper's ablation table still finds the table."""
    question = "Which vanilla LSTM ablation perplexity in Table 2 does Mamba beat?"
    named_only = RetrieverSettings(k=8, named_papers="filter", route_share=2.0)
    docs = build_retriever("hybrid", library, named_only).invoke(question)
    assert set(_sources(docs)) == {M}
    routed = RetrieverSettings(
        k=8, named_papers="filter", route_share=0.5, route_depth=3, route_even_factor=0
    )
    docs = build_retriever("hybrid", library, routed).invoke(question)
    assert {X, M} <= set(_sources(docs)) and docs[0].metadata["page"] == 10


def test_a_question_naming_two_papers_is_not_routed_to_one(library):
    question = "How does the matrix memory of xLSTM compare to the memory of Mamba?"
    eager = RetrieverSettings(
        k=8, named_papers="off", route_share=0.01, route_even_factor=0, **LOOSE
    )
    assert set(papers_named(question, library.list_papers())) == {X, M}
    docs = build_retriever("similarity", library, eager).invoke(question)
    assert {X, M} <= set(_sources(docs))
    one = "What is the matrix memory of xLSTM?"  # one paper named: routing may narrow it
    assert build_retriever("similarity", library, eager).invoke(one)


def test_a_big_paper_needs_a_best_chunk_to_be_routed_to():
    """A two-page upload holds the best chunks; the big paper only the many after them."""
    small = [Document(page_content="s", metadata={"source": "small.pdf"})]
    big = [Document(page_content=str(i), metadata={"source": "big.pdf"}) for i in range(19)]
    router = PaperRouter(None, None, depth=20, rrf_k=5, min_share=0.3)
    router.rankings = lambda query: [small + big, small + big]
    assert dominant_paper(router.votes("q"), 0.3) == "big.pdf"
    assert router.route("q") == ()
    router.rankings = lambda query: [big + small, small + big]
    assert router.route("q") == ("big.pdf",)


def test_votes_count_each_papers_best_chunks_only():
    small = [Document(page_content="s", metadata={"source": "small.pdf"}) for _ in range(2)]
    big = [Document(page_content=str(i), metadata={"source": "big.pdf"}) for i in range(18)]
    votes = paper_votes([small + big, small + big], rrf_k=5)
    assert votes["big.pdf"] == pytest.approx(2 * (1 / 8 + 1 / 9 + 1 / 10))  # its best 3 only
    assert votes["small.pdf"] / sum(votes.values()) > 0.25  # all 20: 0.11
    assert paper_votes([small + big], rrf_k=5, per_paper=20)["big.pdf"] > votes["big.pdf"]


def test_a_name_only_one_paper_mentions_routes_the_question_to_it(library):
    index = BM25Index(library)
    assert index.papers_mentioning(["slstm"]) == [X]  # only the xLSTM paper writes "sLSTM"
    assert set(index.papers_mentioning([])) == {X, M}
    # no majority of votes needed (min_share 0.99): the name decides
    router = PaperRouter(library.vectorstore, index, depth=8, min_share=0.99, paper_count=lambda: 2)
    assert router.route("How does the sLSTM mix memory?") == (X,)
    assert router.route("What does GSM8K measure?") == ()  # no paper names it: the votes decide
    assert router.route("What is the matrix memory?") == ()  # no name at all
    lone = PaperRouter(library.vectorstore, index, depth=8, min_share=0.99, paper_count=lambda: 1)
    assert lone.papers_naming("How does the sLSTM mix memory?") == []  # one paper: no need
