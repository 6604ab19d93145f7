"""The fact next door: units of the chunks beside the retrieved ones."""

from langchain_core.documents import Document

from app.answer import Source, read_beyond
from app.evidence import candidates_from
from app.neighbours import neighbour_candidates, next_sentence_windows


def chunk(index: int, text: str, kind: str = "text", source: str = "p.pdf") -> Document:
    metadata = {"source": source, "chunk_index": index, "page": 1 + index // 3, "kind": kind}
    return Document(page_content=text, metadata=metadata)


STORED = {
    ("p.pdf", 3): chunk(3, "The sLSTM block uses a gated MLP. Its activation is GeLU."),
    ("p.pdf", 4): chunk(4, "We describe the sLSTM block here."),
    ("p.pdf", 5): chunk(5, "Dolan et al. 2020. A paper.", kind="reference"),
    ("p.pdf", 9): chunk(9, "Retrieved elsewhere."),
}


def chunk_at(source: str, index: int) -> Document | None:
    return STORED.get((source, index))


def test_units_of_the_chunks_beside_the_best_retrieved_ones_come_after_them():
    docs = [STORED[("p.pdf", 4)], STORED[("p.pdf", 9)]]
    candidates = candidates_from(docs)
    added = neighbour_candidates(candidates, docs, chunk_at, depth=1)
    # chunk 3 before it; chunk 5 after it is bibliography, never read
    assert [c.text for c in added] == [
        "The sLSTM block uses a gated MLP.",
        "Its activation is GeLU.",
    ]
    assert all(c.doc_index >= len(docs) for c in added)
    assert [c.position for c in added] == [0, 1]  # the next sentence of a pointer stays next


def test_neighbours_skip_retrieved_chunks_known_units_and_need_a_depth():
    docs = [STORED[("p.pdf", 4)], STORED[("p.pdf", 3)]]
    assert neighbour_candidates(candidates_from(docs), docs, chunk_at, depth=1) == []
    assert neighbour_candidates([], docs, chunk_at, depth=0) == []
    assert neighbour_candidates([], docs, None, depth=3) == []
    table = [chunk(4, "GPT-3 356 14.26", kind="table_row")]
    assert neighbour_candidates([], table, chunk_at, depth=1) == []  # rows come by table number


def test_a_retrieved_sentence_is_read_in_its_whole_chunk_and_a_whole_chunk_is_not_read_twice():
    sentence = chunk(3, "Its activation is GeLU.")  # a compression retriever's unit of chunk 3
    docs = [sentence, STORED[("p.pdf", 9)]]
    added = neighbour_candidates(candidates_from(docs), docs, chunk_at, depth=0, own=2)
    assert [c.text for c in added] == ["The sLSTM block uses a gated MLP."]
    assert added[0].doc_index >= len(docs) and added[0].position == 0
    assert neighbour_candidates(candidates_from(docs), docs, chunk_at, depth=0, own=0) == []
    # chunk 9 was retrieved whole, and chunk 3 is read once however many of its sentences come
    twice = [sentence, chunk(3, "The sLSTM block uses a gated MLP."), STORED[("p.pdf", 9)]]
    read = neighbour_candidates([], twice, chunk_at, depth=0, own=3)
    assert [c.text for c in read] == [
        "The sLSTM block uses a gated MLP.",
        "Its activation is GeLU.",
    ]
    both = neighbour_candidates([], [sentence], chunk_at, depth=1, own=1)
    assert [c.text for c in both] == [
        "The sLSTM block uses a gated MLP.",
        "Its activation is GeLU.",
        "We describe the sLSTM block here.",
    ]


def test_read_beyond_lists_the_quoted_units_no_retrieved_source_holds():
    docs = [STORED[("p.pdf", 4)]]
    sources = [Source("p.pdf", 2, 0.5, "We describe the  sLSTM block here.")]
    units = candidates_from(docs) + neighbour_candidates([], docs, chunk_at, depth=1)
    read = read_beyond(units, sources)
    assert [(s.paper, s.page, s.text) for s in read] == [
        ("p.pdf", 2, "The sLSTM block uses a gated MLP."),
        ("p.pdf", 2, "Its activation is GeLU."),
    ]


def test_a_retrieved_sentence_is_read_with_the_reason_after_it_in_its_chunk():
    stored = chunk(
        7,
        "The keys follow a power-law distribution. This is motivated by natural language "
        "text. Grey tokens are zero tokens.",
    )
    sentence = Document("The keys follow a power-law distribution.", metadata=stored.metadata)
    no_reason = Document("This is motivated by natural language text.", metadata=stored.metadata)
    docs = [sentence, no_reason]  # a compression retriever's units: one sentence each

    def at(source: str, index: int) -> Document | None:
        return stored if (source, index) == ("p.pdf", 7) else None

    windows = next_sentence_windows(candidates_from(docs), docs, at)
    assert [(w.text, w.kind, w.doc_index) for w in windows] == [
        (
            "The keys follow a power-law distribution. This is motivated by natural language text.",
            "window",
            0,
        )
    ]  # the second sentence's successor gives no reason: no window
    assert next_sentence_windows([], docs, None) == []
    assert next_sentence_windows(windows, docs, at) == []  # known already
