"""Tables a question names by row and column, and acronyms the paper defines."""

import pytest
from langchain_core.documents import Document

from app.table_lookup import expand_acronyms, paper_acronyms, sources_of, tables_asked
from ingest.words import acronym_pairs
from retrievers.hybrid import BM25Index

SOURCE = "paper.pdf"
CAPTIONS = {1: "Method comparison on SlimPajama", 2: "Downstream accuracy", 3: "Ablation"}


def _row(table: int, model: str, cells: str, index: int) -> Document:
    text = f"Table {table} ({CAPTIONS[table]}): Model = {model}; {cells}"
    metadata = {
        "source": SOURCE,
        "kind": "table_row",
        "table": table,
        "table_name": f"Table {table}",
        "caption": CAPTIONS[table],
        "row": model,
        "chunk_index": index,
    }
    return Document(page_content=text, metadata=metadata)


ROWS = [
    _row(1, "GLA", "#Params M = 412; SlimPajama (15B) ppl ↓ = 16.15", 10),
    _row(1, "Mamba", "#Params M = 423; SlimPajama (15B) ppl ↓ = 13.70", 11),
    _row(2, "Mamba", "HellaSwag acc ↑ = 60.45; PIQA acc ↑ = 74.1", 20),
    _row(2, "xLSTM[1:0]", "HellaSwag acc ↑ = 60.91; PIQA acc ↑ = 74.6", 21),
    _row(3, "Vanilla", "Exponential Gating = ✗; ppl = 26.01", 30),
]
PROSE = Document(
    page_content="We compare to Gated Linear Attention (GLA) and State Space Models (SSMs).",
    metadata={"source": SOURCE, "kind": "text", "chunk_index": 1},
)


@pytest.fixture()
def index() -> BM25Index:
    docs = [PROSE, *ROWS]
    store = type("Store", (), {"version": lambda self: "1", "all_documents": lambda self: docs})()
    return BM25Index(store)


def test_acronym_pairs_need_the_initials_of_the_long_form():
    text = "Long Short-Term Memory (LSTM), State Space Models (SSMs), a big model (GLA)"
    assert acronym_pairs(text) == [
        ("Long Short-Term Memory", "LSTM"),
        ("State Space Models", "SSMs"),
    ]


def test_index_lists_a_papers_tables_and_acronyms(index):
    assert index.tables(SOURCE) == [1, 2, 3]
    assert index.tables("other.pdf") == []
    assert index.acronyms(SOURCE) == {"Gated Linear Attention": "GLA", "State Space Models": "SSMs"}


def test_expand_acronyms_adds_the_papers_acronym_once():
    acronyms = paper_acronyms([SOURCE], {SOURCE: {"Gated Linear Attention": "GLA"}}.get)
    assert expand_acronyms("What did gated linear attention reach?", acronyms) == (
        "What did gated linear attention (GLA) reach?"
    )
    assert expand_acronyms("What did GLA reach?", acronyms) == "What did GLA reach?"
    assert paper_acronyms([SOURCE], None) == {}


@pytest.mark.parametrize(
    ("question", "tables"),
    [
        ("What perplexity did GLA (GLA) reach on SlimPajama?", [1]),
        ("What HellaSwag accuracy do xLSTM[1:0] and Mamba reach?", [2]),
        ("What perplexity does Mamba reach on SlimPajama?", [1]),  # caption and column words
        ("What HellaSwag accuracy does Llama reach?", []),  # no such row
        ("How fast is Mamba?", []),  # no column or caption word
    ],
)
def test_tables_asked_need_a_named_row_and_a_column_or_caption_word(index, question, tables):
    asked = tables_asked(question, [SOURCE], index.tables, index.table_rows)
    assert [table for _, table in asked] == tables


def test_sources_keep_retrieval_order():
    docs = [Document(page_content="x", metadata={"source": s}) for s in ("b.pdf", "a.pdf", "b.pdf")]
    assert sources_of(docs) == ["b.pdf", "a.pdf"]
