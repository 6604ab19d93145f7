"""Evidence selection helpers: enumeration items travel together in list answers."""

import numpy as np
from langchain_core.documents import Document

from app.evidence import Candidate, select, table_candidates, tables_named
from app.lists import (
    after_overlap,
    announced_items,
    enumeration_rank,
    with_announced_items,
    with_enumeration_siblings,
)


def _candidate(text: str, page: int = 1, source: str = "xlstm.pdf") -> Candidate:
    return Candidate(text, 0, {"source": source, "page": page})


def test_enumeration_rank_reads_ordinal_openers():
    assert enumeration_rank("Firstly, we introduce exponential gating.") == 1
    assert enumeration_rank("Second, the memory.") == 2
    assert enumeration_rank("Finally, residual blocks.") == 99
    assert enumeration_rank("The first model is small.") is None
    assert enumeration_rank("Firstborn is not an ordinal opener.") is None


def test_a_chosen_item_brings_its_siblings_in_order():
    candidates = [
        _candidate("Secondly, we modify the LSTM memory structure."),  # 0, chosen
        _candidate("A matrix memory is parallelizable.", page=5),  # 1, chosen
        _candidate("Firstly, we introduce exponential gating."),  # 2, sibling
        _candidate("Firstly, another paper's first point.", source="other.pdf"),  # 3, not
        _candidate("Finally, we stack residual blocks."),  # 4, sibling
        _candidate("Unrelated sentence on page one."),  # 5
    ]
    assert with_enumeration_siblings(candidates, [0, 1], limit=6) == [2, 0, 4, 1]
    assert with_enumeration_siblings(candidates, [0, 1], limit=2) == [2, 0]


def test_answers_without_enumerations_are_unchanged():
    candidates = [_candidate("One."), _candidate("Two."), _candidate("Firstly, three.", page=2)]
    assert with_enumeration_siblings(candidates, [1, 0], limit=5) == [1, 0]


def test_select_keeps_items_within_the_margin_and_skips_near_duplicates():
    scores = [0.9, 0.85, 0.84, 0.5]
    candidates = [Candidate(f"s{i}", 0, {}, score=x) for i, x in enumerate(scores)]
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])  # s1 repeats s0
    assert select(candidates, vectors, 4) == [0, 2, 3]
    assert select(candidates, vectors, 4, margin=0.2) == [0, 2]  # s3 is 0.4 below the best
    assert select(candidates, vectors, 1) == [0]


CHUNKS = {
    20: "LSTMs shine on many tasks. Despite their tremendous successes, LSTMs have three main "
    "limitations:",
    21: "LSTMs have three main limitations: (i) Inability to revise storage decisions. (ii) "
    "Limited storage capacities. (iii) Lack of parallelizability. Transformers followed.",
}


def _lookup(source: str, index: int) -> Document | None:
    text = CHUNKS.get(index) if source == "p.pdf" else None
    return None if text is None else Document(text, metadata={"page": index // 10, "i": index})


def _announcer(index: int = 20) -> Candidate:
    text = "Despite their tremendous successes, LSTMs have three main limitations:"
    return Candidate(text, 0, {"source": "p.pdf", "chunk_index": index})


def test_an_announced_list_is_completed_from_the_next_chunk_without_the_overlap():
    items = announced_items(_announcer(), _lookup)
    assert [c.text for c in items] == [
        "(i) Inability to revise storage decisions.",
        "(ii) Limited storage capacities.",
        "(iii) Lack of parallelizability.",
    ]  # "three": not the fourth sentence
    assert all(c.metadata["i"] == 21 for c in items)  # cited from the chunk they come from


def test_items_after_the_announcement_in_its_own_chunk_come_first():
    CHUNKS[30] = "Intro. It has two parts: The first part. The second part. More."
    c = Candidate("It has two parts:", 1, {"source": "p.pdf", "chunk_index": 30})
    assert [x.text for x in announced_items(c, _lookup)] == ["The first part.", "The second part."]
    del CHUNKS[30]


def test_sentences_that_announce_nothing_are_left_alone():
    plain = Candidate("The mLSTM is parallelizable.", 0, {"source": "p.pdf", "chunk_index": 20})
    assert announced_items(plain, _lookup) == []
    assert announced_items(_announcer(99), _lookup) == []  # no stored chunk
    chosen = [plain, _announcer()]
    assert [c.text for c in with_announced_items(chosen, None)] == [c.text for c in chosen]
    assert len(with_announced_items(chosen, _lookup)) == 5


def test_after_overlap_strips_the_shared_text():
    assert after_overlap("abc def ghi", "def ghi jkl") == " jkl"
    assert after_overlap("abc", "xyz") == "xyz"


def test_marked_items_skip_the_explanations_between_them():
    CHUNKS.update(
        {
            40: "Intro. Our method has three limitations:",
            41: "(i) Slow decoding. We show this in Figure 2. It matters at scale.",
            42: "It matters at scale. (ii) Small memory, i.e., scalar states. See Table 3.",
            43: "(iii) No parallel training. Done.",
        }
    )
    c = Candidate("Our method has three limitations:", 0, {"source": "p.pdf", "chunk_index": 40})
    assert [x.text for x in announced_items(c, _lookup)] == [
        "(i) Slow decoding.",
        "(ii) Small memory, i.e., scalar states.",
        "(iii) No parallel training.",
    ]
    assert [x.metadata["i"] for x in announced_items(c, _lookup)] == [41, 42, 43]
    for i in (40, 41, 42, 43):
        del CHUNKS[i]


SOURCE = "xlstm.pdf"


def _row(table: int, model: str, index: int) -> Document:
    text = f"Table {table} (Results): Model = {model}; ppl = {10 + index}.5"
    metadata = {"source": SOURCE, "kind": "table_row", "table": table, "chunk_index": index}
    return Document(page_content=text, metadata=metadata)


def test_tables_named_reads_rows_captions_and_pointers_in_order():
    cands = [
        Candidate("Cats sleep.", 0, {"source": SOURCE}),
        Candidate("Model = A; ppl = 3", 0, {"source": SOURCE, "table": 2}, kind="table_row"),
        Candidate("Table 3: Ablations of the gates.", 1, {"source": SOURCE}, kind="caption"),
        Candidate("As shown in Table 4, it helps.", 2, {"source": SOURCE}),
        Candidate("Table 2 again: Model = B", 2, {"source": SOURCE}),
    ]
    assert tables_named(cands) == [(SOURCE, 2), (SOURCE, 3), (SOURCE, 4)]


def test_table_candidates_add_the_named_tables_missing_rows_after_the_retrieved_ones():
    rows = {1: [_row(1, m, i) for i, m in enumerate(["GPT-3", "Llama", "Mamba"])]}
    retrieved = [
        Candidate(
            " ".join(rows[1][0].page_content.split()), 0, rows[1][0].metadata, kind="table_row"
        )
    ]
    added = table_candidates(retrieved, lambda s, t: rows.get(t, []), doc_index=5)
    assert [c.text.split("Model = ")[1][:5] for c in added] == ["Llama", "Mamba"]
    assert all(c.doc_index == 5 and c.kind == "table_row" for c in added)
    assert len(table_candidates(retrieved, lambda s, t: rows[1], 5, max_rows=1)) == 1
    assert table_candidates(retrieved, None, 5) == []


def test_bm25_index_gives_a_tables_rows_in_order():
    from retrievers.hybrid import BM25Index

    docs = [_row(1, "Mamba", 3), _row(2, "LSTM", 1), _row(1, "GPT-3", 0)]
    docs.append(
        Document(
            page_content="Table 1 (Results)",
            metadata={"source": SOURCE, "table": 1, "kind": "table"},
        )
    )
    store = type("Store", (), {"version": lambda self: "1", "all_documents": lambda self: docs})()
    figure = _row(1, "Llama", 5)
    figure.metadata["table_name"] = "Figure 1"
    docs.append(figure)
    rows = BM25Index(store).table_rows(SOURCE, 1)
    assert [d.metadata["chunk_index"] for d in rows] == [0, 3]
    assert BM25Index(store).table_rows("other.pdf", 1) == []


def test_lexical_scores_do_not_depend_on_string_hashing():
    """Set order follows PYTHONHASHSEED; a float sum in that order differed in its last bits
    between processes and flipped near ties between quotes."""
    import os
    import subprocess
    import sys

    code = (
        "from app.evidence import lexical_scores; "
        "q = 'which peak learning rate and batch size train the 1.3B xLSTM models on SlimPajama'; "
        "t = ['the 1.3B models use batch size 512 and peak learning rate 1e-3 on SlimPajama', "
        "'xLSTM models train on 300B tokens', 'learning rate warm-up and cosine decay']; "
        "print([float(x).hex() for x in lexical_scores(q, t)])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(outputs) == 1
