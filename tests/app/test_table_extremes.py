"""Superlative questions over a table: the row holding the extreme of the column asked."""

from langchain_core.documents import Document

from app.evidence import Candidate
from app.table_extremes import extreme_short, superlative, table_extreme
from tests.helpers.table_rows import traceable

# rows as ingest writes the xLSTM paper's Table 6 (p. 39), Table 1 (p. 9) and Table 3 (p. 12)
LRA = "Table 6 (Long Range Arena test accuracy): "
TABLE_6 = [
    LRA + "Random Baseline = 0.500 | 0.100 (columns: Retrieval acc ↑ ListOps acc ↑)",
    LRA + "Llama; Retrieval acc ↑ = 0.845; ListOps acc ↑ = 0.379; Pathfinder acc ↑ = 0.887",
    LRA + "Mamba; Retrieval acc ↑ = 0.902; ListOps acc ↑ = 0.325; Pathfinder acc ↑ = 0.992",
    LRA + "LSTM; Retrieval acc ↑ = X; ListOps acc ↑ = 0.275; Pathfinder acc ↑ = X",
    LRA + "LSTM (Block); Retrieval acc ↑ = 0.880; ListOps acc ↑ = 0.495; Pathfinder acc ↑ = X",
    LRA + "xLSTM; Retrieval acc ↑ = 0.906; ListOps acc ↑ = 0.411; Pathfinder acc ↑ = 0.919",
]
SLIM = "Table 1 (Method comparison on 15B tokens from SlimPajama): Model = "
TABLE_1 = [
    SLIM + "GPT-3; #Params M = 356; SlimPajama (15B) ppl ↓ = 14.26",
    SLIM + "Llama; #Params M = 407; SlimPajama (15B) ppl ↓ = 14.25",
    SLIM + "xLSTM[1:0]; #Params M = 409; SlimPajama (15B) ppl ↓ = 13.43",
    SLIM + "xLSTM[7:1]; #Params M = 408; SlimPajama (15B) ppl ↓ = 13.48",
]
DOWN = "Table 3 (Downstream tasks, 300B tokens), {size}: Model = {model}; HellaSwag acc ↑ = {v}"
TABLE_3 = [
    DOWN.format(size="350M", model="Llama", v="39.31"),
    DOWN.format(size="350M", model="Mamba", v="41.07"),
    DOWN.format(size="350M", model="xLSTM[1:0]", v="41.02"),
    DOWN.format(size="1.3B", model="Llama", v="55.13"),
    DOWN.format(size="1.3B", model="Mamba", v="59.76"),
    DOWN.format(size="1.3B", model="xLSTM[1:0]", v="60.91"),
]
PAPER = "xlstm-2405.04517v2.pdf"


def _store(*tables: list[str]):
    docs = {
        n: [Document(page_content=t, metadata={"table": n, "source": PAPER}) for t in rows]
        for n, rows in enumerate(tables, start=1)
    }
    return (lambda source: list(docs) if source == PAPER else []), (lambda s, n: docs[n])


def _extreme(question: str, *tables: list[str]):
    tables_of, rows_of = _store(*tables)
    return table_extreme(question, [PAPER], tables_of, rows_of)


def test_superlative_words():
    assert superlative("Which model has the highest ListOps accuracy?") == "highest"
    assert superlative("Which method reaches the lowest perplexity?") == "lowest"
    assert superlative("Which model is best on Pathfinder?") == "best"
    assert superlative("What perplexity does xLSTM[1:0] reach?") is None
    assert superlative("What top-1 accuracy does xLSTM reach on ImageNet?") is None
    # a setting named "minimum", and a question that asks for values, not for a row
    assert superlative("What batch size and minimum learning rate are used?") is None
    assert superlative("Which model has the maximum accuracy?") == "highest"
    assert superlative("What is the smallest batch size used?") is None
    assert superlative("What model reaches the smallest perplexity?") == "lowest"


def test_the_column_is_the_one_the_superlative_measures():
    # "largest parameter count": the #Params column, though "SlimPajama 15B" names the other one
    q = "Which model has the largest parameter count in the SlimPajama 15B comparison?"
    extreme = _extreme(q, TABLE_1)
    assert (extreme.label, extreme.value, extreme.column) == ("xLSTM[1:0]", "409", "#Params M")
    assert extreme.short_answer() == "xLSTM[1:0] — 409, the largest #Params M of Table 1's 4 rows"
    lowest = _extreme("Which model has the lowest SlimPajama 15B perplexity?", TABLE_1)
    assert (lowest.label, lowest.column) == ("xLSTM[1:0]", "SlimPajama (15B) ppl ↓")


def test_highest_value_of_the_asked_column_skips_the_random_baseline_and_missing_cells():
    q = "Which model achieves the highest ListOps test accuracy in the Long Range Arena?"
    extreme = _extreme(q, TABLE_1, TABLE_6)
    assert (extreme.label, extreme.value) == ("LSTM (Block)", "0.495")
    assert extreme.column == "ListOps acc ↑"
    assert extreme.compared == 5  # five models; not the random baseline
    assert extreme.short_answer() == (
        "LSTM (Block) — 0.495, the highest ListOps acc ↑ of Table 6's 5 rows"
    )
    pathfinder = _extreme("Which model performs worst on the Pathfinder task?", TABLE_6)
    assert (pathfinder.label, pathfinder.word, pathfinder.compared) == ("Llama", "worst", 3)


def test_best_and_worst_follow_the_columns_arrow():
    best = _extreme("Which model is best on SlimPajama after 15B tokens?", TABLE_1)
    assert (best.label, best.value, best.word) == ("xLSTM[1:0]", "13.43", "best")  # ppl ↓
    worst = _extreme("Which model is worst on SlimPajama after 15B tokens?", TABLE_1)
    assert worst.label == "GPT-3"
    best_acc = _extreme("Which model is best on Retrieval in the Long Range Arena?", TABLE_6)
    assert best_acc.label == "xLSTM"  # acc ↑


def test_a_tie_names_every_row_holding_the_value():
    tied = [*TABLE_1, SLIM + "Mamba; #Params M = 423; SlimPajama (15B) ppl ↓ = 13.43"]
    extreme = _extreme("Which model reaches the lowest SlimPajama perplexity?", tied)
    assert (extreme.label, extreme.value) == ("xLSTM[1:0] and Mamba", "13.43")


def test_size_groups_are_compared_within_the_size_asked_and_never_across():
    q = "Which 1.3B model has the best HellaSwag accuracy after 300B tokens?"
    extreme = _extreme(q, TABLE_3)
    assert (extreme.label, extreme.table, extreme.compared) == ("xLSTM[1:0]", "Table 3 (1.3B)", 3)
    small = _extreme("Which 350M model has the highest HellaSwag accuracy?", TABLE_3)
    assert small.label == "Mamba"
    assert _extreme("Which model has the highest HellaSwag accuracy?", TABLE_3) is None


def test_no_answer_without_a_column_the_question_names_or_enough_rows():
    assert _extreme("Which model has the highest accuracy?", TABLE_6) is None  # which column?
    assert _extreme("Which model has the highest BoolQ accuracy?", TABLE_6) is None
    assert _extreme("Which model is best on ListOps?", TABLE_6[:3]) is None  # two rows


def test_the_short_answer_is_cut_from_the_extreme_row_quoted_first():
    tables_of, rows_of = _store(TABLE_6)
    q = "Which model has the highest ListOps accuracy in the Long Range Arena comparison?"
    short = extreme_short(q, [PAPER], tables_of, rows_of, doc_index=5)
    (unit,) = short.units
    assert unit.kind == "table_row" and unit.doc_index == 5  # read beyond the retrieved five
    assert "LSTM (Block); " in unit.text
    assert traceable(short.text.split(", the highest")[0], unit.text)
    row = Candidate(unit.text, 2, {}, kind="table_row", score=0.81, reader=0.05)
    known = extreme_short(q, [PAPER], tables_of, rows_of, doc_index=5, scored=[row])
    assert known.units[0] is row  # the scored row itself: its reader scores show in the UI
    plain = "What is the ListOps accuracy of Mamba?"
    assert extreme_short(plain, [PAPER], tables_of, rows_of, doc_index=5) is None
