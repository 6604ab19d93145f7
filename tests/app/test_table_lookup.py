"""Tables a question names by row and column, and acronyms the paper defines."""

import pytest
from langchain_core.documents import Document

from app.evidence import Candidate
from app.refusal import sources_of, unreported_rows, unreported_sizes
from app.short_answer import ShortAnswer
from app.table_cells import model_sizes, row_gaps, table_answer
from app.table_lookup import (
    expand_acronyms,
    paper_acronyms,
    reported_elsewhere,
    table_text,
    tables_asked,
)
from ingest.words import acronym_pairs
from retrievers.hybrid import BM25Index

SOURCE = "paper.pdf"
CAPTIONS = {
    1: "Method comparison on SlimPajama",
    2: "Downstream accuracy",
    3: "Ablation",
    4: "Perplexity values per domain",
}


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
    _row(3, "xLSTM[1:0] Post Up-Projection Block (ReLU2)", "Twitter AAE = 13.90", 31),
]
UNALIGNED = Document(  # more column words than values: the cells stay unaligned
    page_content="Table 4 (Perplexity values per domain): Mamba = 169.4 | 32.01 "
    "(columns: Model #Params M Gab Corpus)",
    metadata={**ROWS[1].metadata, "table": 4, "table_name": "Table 4", "chunk_index": 40},
)
PROSE = Document(
    page_content="We compare to Gated Linear Attention (GLA) and State Space Models (SSMs).",
    metadata={"source": SOURCE, "kind": "text", "chunk_index": 1},
)


@pytest.fixture()
def index() -> BM25Index:
    docs = [PROSE, *ROWS, UNALIGNED]
    store = type("Store", (), {"version": lambda self: "1", "all_documents": lambda self: docs})()
    return BM25Index(store)


def test_acronym_pairs_need_the_initials_of_the_long_form():
    text = "Long Short-Term Memory (LSTM), State Space Models (SSMs), a big model (GLA)"
    assert acronym_pairs(text) == [
        ("Long Short-Term Memory", "LSTM"),
        ("State Space Models", "SSMs"),
    ]


def test_index_lists_a_papers_tables_and_acronyms(index):
    assert index.tables(SOURCE) == [1, 2, 3, 4]
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
        ("What perplexity does Mamba reach on SlimPajama?", [1, 4]),  # most words first
        ("What HellaSwag accuracy does Llama reach?", []),  # no such row
        ("How fast is Mamba?", []),  # no column or caption word
        ("What ablation perplexity does xLSTM[1:0] with ReLU2 reach?", [3]),  # a name in a label
        ("On the Gab corpus, what perplexities does Mamba reach?", [4, 1]),  # unaligned columns
    ],
)
def test_tables_asked_need_a_named_row_and_a_column_or_caption_word(index, question, tables):
    asked = tables_asked(question, [SOURCE], index.tables, index.table_rows)
    assert [table for _, table in asked] == tables


def test_sources_keep_retrieval_order():
    docs = [Document(page_content="x", metadata={"source": s}) for s in ("b.pdf", "a.pdf", "b.pdf")]
    assert sources_of(docs) == ["b.pdf", "a.pdf"]


def test_a_model_no_table_reports_is_refused_not_answered_with_a_neighbour(index):
    question = "What HellaSwag accuracy does xLSTM[1:1] reach?"
    closest = table_answer(question, ROWS[3].page_content)
    assert closest.startswith("closest row (no row for xLSTM[1:1]): 60.91 — xLSTM[1:0]")
    tables = table_text([SOURCE], index.tables, index.table_rows)
    assert unreported_rows(question, ["xLSTM[1:1]"], tables) == (
        " No table of the paper has a row for xLSTM[1:1]."
    )
    # a table writes it (as a label, inside a label, or as a column across a space): no refusal
    for name in ("Mamba", "ReLU2", "TwitterAAE"):
        assert unreported_rows(f"What does {name} reach?", [name], tables) == ""
    assert unreported_rows("What does Vanilla reach?", ["Vanilla"], "") == ""  # not a name
    assert table_text([SOURCE], None, index.table_rows) == ""


def test_a_table_answer_needs_the_column_the_question_names():
    row = ROWS[2].page_content
    assert table_answer("What PIQA accuracy does Mamba reach?", row).startswith("74.1 — Mamba")
    assert table_answer("What is the carbon footprint of Mamba?", row) is None
    one_value = ROWS[4].page_content
    assert table_answer("What does Vanilla reach?", one_value).startswith("26.01 — Vanilla")


def test_a_model_size_no_row_of_the_table_reports_is_refused():
    rows = [
        "Table 3 (Downstream tasks), 1.3B: Model = xLSTM[7:1]; LAMBADA acc = 56.69",
        "Table 3 (Downstream tasks), 125M: Model = Llama; LAMBADA acc = 31.54",
    ]
    question = "What LAMBADA accuracy does the 2.7B xLSTM[7:1] achieve?"
    assert model_sizes(question) == ["2.7B"]
    assert model_sizes("trained on 15B tokens, a 350 M model") == ["350M"]  # tokens are no size
    assert row_gaps(question, rows[0]) == ["2.7B"]
    assert row_gaps("What does the 1.3B xLSTM[7:1] reach?", rows[0]) == []
    assert unreported_sizes(["2.7B"], "Table 3", rows) == " Table 3 reports no 2.7B model."
    assert unreported_sizes(["125M"], "Table 3", rows) == ""  # another row has it
    assert unreported_sizes(["xLSTM[1:1]"], "Table 3", rows) == ""  # names are not sizes


def test_a_size_another_asked_table_reports_drops_the_closest_row():
    def rows_of(source: str, table: int) -> list[Document]:
        texts = {
            9: ["Table 9 (Per domain), 350M: xLSTM[1:0] = 409.3 | 24.58 (columns: Model M GAB)"],
            10: ["Table 10 (PPL Evaluations): Dataset = gab_val; xLSTM[1:0] = 31.30"],
        }[table]
        return [Document(page_content=t, metadata={"source": source}) for t in texts]

    meta = {"source": SOURCE, "table": 10, "kind": "table_row"}
    closest = Candidate(rows_of(SOURCE, 10)[0].page_content, 0, meta, kind="table_row")
    short = ShortAnswer("closest row (no row for 350M): 31.30", (closest,), missing=("350M",))
    assert reported_elsewhere(short, [(SOURCE, 10), (SOURCE, 9)], rows_of)
    assert not reported_elsewhere(short, [(SOURCE, 10)], rows_of)  # only its own table asked
    two_b = ShortAnswer(short.text, (closest,), missing=("2.7B",))
    assert not reported_elsewhere(two_b, [(SOURCE, 9)], rows_of)  # no table reports 2.7B
    named = ShortAnswer(short.text, (closest,), missing=("Mamba",))
    assert not reported_elsewhere(named, [(SOURCE, 9)], rows_of)  # names are not sizes


def test_a_row_of_a_size_group_is_named_by_its_bare_label():
    from app.table_lookup import _label_keys

    assert "llama" in _label_keys("Llama (1.3B)")  # ingest names grouped rows "label (group)"
    assert "relu2" in _label_keys("xLSTM[1:0] Post Up-Projection Block (ReLU2)")
