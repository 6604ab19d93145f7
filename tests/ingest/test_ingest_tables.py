"""Table rows as self-describing units: the parser on hand-made lines and on the real paper."""

from __future__ import annotations

import logging

import pytest

from ingest.table_header import split_header
from ingest.table_pages import extract_tables
from ingest.tables import Row, find_tables, split_row

TABLE_1 = [
    "on the validation set and perform ablation studies for the xLSTMs.",
    "Model #Params M SlimPajama (15B) ppl ↓",
    "GPT-3 356 14.26",
    "Llama 407 14.25",
    "xLSTM[7:1] 408 13.48",
    "Table 1: Method comparison on next",
    "token prediction when trained on 15B",
    "tokens from SlimPajama. Best valida-",
    "Comparing xLSTM to Other Methods. For comparison, we train models on 15B tokens.",
]


def test_split_row_takes_label_words_then_value_cells() -> None:
    assert split_row("GPT-3 356 14.26") == Row("GPT-3", ("356", "14.26"))
    assert split_row("Llama 768 12 12 / 64 162.2 3e-3 -").cells == (
        "768", "12", "12 / 64", "162.2", "3e-3", "-",
    )  # fmt: skip
    gating = split_row("Input Gate ✗ ✗ [3, 6] ✓ ✓ N (0, 0.1) 13.69")
    assert gating.label == "Input Gate" and gating.cells[2] == "[3, 6]" and len(gating.cells) == 7
    assert split_row("Mamba 13.70*").cells == ("13.70",)  # bold/footnote marks dropped
    assert split_row("Context Length = 756") is None  # a plot label, not a row
    assert split_row("set. We compare the following methods: xLSTM 2020") is None  # prose
    assert split_row("32 64 128 256 512") is None  # an axis: no label


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        (
            "Model #Params M SlimPajama (15B) ppl ↓",
            2,
            ("Model", "#Params M", "SlimPajama (15B) ppl ↓"),
        ),
        (
            "Model Modification Exponential Gating Matrix Memory #Params M SlimPajama (15B) ppl ↓",
            4,
            (
                "Model Modification",
                "Exponential Gating",
                "Matrix Memory",
                "#Params M",
                "SlimPajama (15B) ppl ↓",
            ),
        ),  # fmt: skip
        (
            "Task #Blocks Embedding Dim Batch Size Training Steps",
            4,
            ("Task", "#Blocks", "Embedding Dim", "Batch Size", "Training Steps"),
        ),
        ("Retrieval acc ↑ ListOps acc ↑", 2, ("", "Retrieval acc ↑", "ListOps acc ↑")),
        ("Model SlimPajama (300B) ppl ↓ at 16k", 1, ("Model", "SlimPajama (300B) ppl ↓ at 16k")),
    ],
)
def test_split_header_when_certain(header: str, cells: int, expected: tuple) -> None:
    assert split_header(header, cells) == expected


@pytest.mark.parametrize(
    ("header", "cells"),
    [
        ("Model #Params M Twitter AAE Manosphere 4CHAN GAB", 5),  # 5 names for 4 values
        ("Humanities STEM Social Sciences Other Average", 5),  # no label column name
        ("Forget Gate Input Gate SlimPajama (15B) ppl ↓Input Dependent", 4),  # lines run together
        ("System Dev Test EM F1 Top Leaderboard Systems (Dec 10th, 2018)", 4),  # a date
        ("Model NQ TQA WQ CT Closed Book", 2),  # a five-word label name is a guess
    ],
)
def test_split_header_refuses_to_guess(header: str, cells: int) -> None:
    assert split_header(header, cells) is None


def test_find_tables_builds_self_describing_rows() -> None:
    [table], failures = find_tables(TABLE_1, page=9)
    assert not failures
    assert table.name == "Table 1" and table.page == 9
    assert (
        table.caption
        == "Method comparison on next token prediction when trained on 15B tokens from SlimPajama"
    )
    assert table.row_text(table.rows[0]) == (
        "Table 1 (Method comparison on next token prediction when trained on 15B tokens from "
        "SlimPajama): Model = GPT-3; #Params M = 356; SlimPajama (15B) ppl ↓ = 14.26"
    )
    assert table.lines == (1, 2, 3, 4)  # header and rows leave the text; the caption stays
    assert "xLSTM[7:1]; #Params M = 408" in table.text()


def test_multi_word_labels_with_sizes() -> None:
    lines = ["Model #Params M PPL", "Llama 1.3B 1420 9.44", "Mamba 1475 9.14", "Table 2: Sizes."]
    [table], _ = find_tables(lines, page=1)
    assert table.rows[0] == Row("Llama 1.3B", ("1420", "9.44"))
    assert table.row_text(table.rows[0]) == (
        "Table 2 (Sizes): Model = Llama 1.3B; #Params M = 1420; PPL = 9.44"
    )


def test_a_size_column_in_every_row_belongs_to_the_label() -> None:
    lines = ["Humanities STEM Social Sciences Other Average",
             "GPT-NeoX 20B 29.8 34.9 33.7 37.7 33.6", "GPT-3 175B 40.8 36.7 50.4 48.8 43.9",
             "Table 9: MMLU."]  # fmt: skip
    [table], _ = find_tables(lines, page=7)
    assert table.rows[0] == Row("GPT-NeoX 20B", ("29.8", "34.9", "33.7", "37.7", "33.6"))
    assert table.columns is None  # six header words for five values: no guessing


def test_unmatched_columns_keep_values_in_order_with_the_header() -> None:
    lines = ["Model #Params M Twitter AAE Manosphere 4CHAN GAB", "125M",
             "RWKV-4 169.4 265.80 39.31 18.48 53.89", "Llama 162.2 277.93 32.98 14.03 56.45",
             "Table 9: Perplexity values per domain."]  # fmt: skip
    [table], _ = find_tables(lines, page=43)
    assert table.columns is None
    assert table.row_text(table.rows[0]) == (
        "Table 9 (Perplexity values per domain), 125M: RWKV-4 = 169.4 | 265.80 | 39.31 | 18.48 | "
        "53.89 (columns: Model #Params M Twitter AAE Manosphere 4CHAN GAB)"
    )


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["Some prose here.", "Table 3: An empty table.", "More prose follows here."], "no rows"),
        (
            ["Prose.", "Model A B C", "x 1 2 3", "y 1 2", "z 4", "Table 4: Ragged rows."],
            "no rows",
        ),  # a corrupt region: cell counts disagree
        (["Table 5: Split.", "Prose.", "Model A B", "x 1 2", "y 3 4"], "page end"),
    ],
)
def test_unparsable_tables_stay_text_with_one_warning(lines, reason, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.tables"):
        tables, remaining = extract_tables([lines, ["A second page."]], "paper.pdf")
    assert tables == [] and remaining == [lines, ["A second page."]]
    [record] = caplog.records
    assert record.getMessage().startswith("paper.pdf: 1 table kept as plain text")
    assert reason in record.getMessage()


CONTINUED = ["Table 5: Split over pages.", "Model Alpha Beta", "x 1.0 2.0", "y 3.0 4.0"]


@pytest.mark.parametrize("repeat_header", [True, False])
def test_a_table_continued_on_the_next_page(repeat_header) -> None:
    top = ["Model Alpha Beta"] if repeat_header else []
    second = [*top, "z 5.0 6.0", "w_long_label7.0 8.0", "Prose after the table."]
    tables, remaining = extract_tables([CONTINUED, second], "paper.pdf")
    first, part = tables
    assert (first.page, first.continued, part.page, part.continued) == (1, False, 2, True)
    assert [r.label for r in part.rows] == ["z", "w_long_label"]  # a glued value split off
    assert (
        part.row_text(part.rows[1])
        == "Table 5 (Split over pages): Model = w_long_label; Alpha = 7.0; Beta = 8.0"
    )
    assert remaining == [["Table 5: Split over pages."], ["Prose after the table."]]


def test_a_page_that_does_not_continue_the_table_leaves_it_text(caplog) -> None:
    second = ["A new section starts here.", "z 5.0 6.0", "w 7.0 8.0"]
    with caplog.at_level(logging.WARNING, logger="ingest.tables"):
        tables, remaining = extract_tables([CONTINUED, second], "paper.pdf")
    assert tables == [] and remaining == [CONTINUED, second]
    assert "Table 5 p1 (runs over the page end)" in caplog.records[0].getMessage()


def test_a_caption_naming_one_model_size_groups_the_rows_under_it() -> None:
    from ingest.tables import caption_size

    rows = (Row("a", ("1.0",)), Row("b", ("2.0",)))
    sized = "PPL Evaluations: For the 1.3B sized models trained on 300B SlimPajama tokens"
    assert {r.group for r in caption_size(sized, rows)} == {"1.3B"}  # "300B … tokens": data
    assert caption_size("Results of the PaLM 8B and 62B model", rows) == rows  # two sizes
    assert caption_size("Method comparison on 15B tokens", rows) == rows  # no model size


def test_a_parser_error_keeps_the_page_text(monkeypatch, caplog) -> None:
    def broken(lines, page):
        raise ValueError("bad region")

    monkeypatch.setattr("ingest.tables.find_tables", broken)
    with caplog.at_level(logging.WARNING, logger="ingest.tables"):
        tables, remaining = extract_tables([TABLE_1], "paper.pdf")
    assert tables == [] and remaining == [TABLE_1]
    assert len(caplog.records) == 1 and "bad region" in caplog.records[0].getMessage()


# The real paper ------------------------------------------------------------------------------


def _tables(content) -> dict:
    found: dict = {}
    for table in content.tables:
        found.setdefault(table.name, []).append(table)
    return found


def _row(content, name: str, label: str):
    for table in _tables(content)[name]:
        for row in table.rows:
            if row.label == label:
                return table, row
    raise AssertionError(f"{name} has no row {label!r}")


@pytest.mark.integration
def test_xlstm_table_1_gpt3_row(xlstm_content) -> None:
    table, row = _row(xlstm_content, "Table 1", "GPT-3")
    assert table.page == 9 and len(table.rows) == 14
    assert table.row_text(row) == (
        "Table 1 (Method comparison on next token prediction when trained on 15B tokens from "
        "SlimPajama): Model = GPT-3; #Params M = 356; SlimPajama (15B) ppl ↓ = 14.26"
    )
    assert _row(xlstm_content, "Table 1", "xLSTM[1:0]")[1].cells == ("409", "13.43")
    text = "\n".join(p.text for p in xlstm_content.pages)
    assert "GPT-3 356 14.26" not in text  # the bare row left the prose


@pytest.mark.integration
def test_xlstm_ablation_row_with_2417_86(xlstm_content) -> None:
    table, row = _row(xlstm_content, "Table 2", "LSTM Vanilla Multi-Layer LSTM")
    assert table.page == 10
    assert "Exponential Gating = ✗; Matrix Memory = ✗; #Params M = 607.8" in table.row_text(row)
    assert "SlimPajama (15B) ppl ↓ = 2417.86" in table.row_text(row)
    _, gated = _row(xlstm_content, "Table 2", "xLSTM[0:1] Adding Exponential Gating")
    assert gated.cells == ("✓", "✗", "427.3", "17.70")  # its own model: no "LSTM" prefix


@pytest.mark.integration
def test_xlstm_extrapolation_and_appendix_tables(xlstm_content) -> None:
    table, row = _row(xlstm_content, "Figure 7", "Llama")  # the table beside Figure 7
    assert table.row_text(row).endswith("Model = Llama; SlimPajama (300B) ppl ↓ at 16k = 337.83")
    table, row = _row(xlstm_content, "Table 5", "Pathfinder")
    assert table.page == 38
    assert "#Blocks = 6; Embedding Dim = 192; Batch Size = 64; Training Steps = 500k" in (
        table.row_text(row)
    )
    table, row = _row(xlstm_content, "Table 7", "xLSTM")  # hyper-parameters, first size block
    assert table.row_text(row).startswith(
        "Table 7 (Peak learning rates and model dimensions for scaling law plots), 125M: "
        "Model = xLSTM; EmbeddingDim = 768; #Blocks = 24; #Heads/HeadDim = 4 / 384;"
    )
    assert "Peak LR (15B) = 3e-3; Peak LR (300B) = 1.5e-3" in table.row_text(row)
    sizes = {r.group for r in _tables(xlstm_content)["Table 7"][0].rows}
    assert sizes == {"125M", "350M", "760M", "1.3B", "2.7B"}


@pytest.mark.integration
def test_xlstm_table_coverage(xlstm_content) -> None:
    tables = _tables(xlstm_content)
    assert sorted(tables, key=lambda n: (n[0], int(n.split()[1]))) == [
        "Figure 7",
        *[f"Table {n}" for n in range(1, 11)],
    ]
    assert sum(len(t.rows) for n, ts in tables.items() if n != "Table 10" for t in ts) == 142
    text = "\n".join(p.text for p in xlstm_content.pages)
    assert "4chan_meta_sep_val-00000000 9.58" not in text  # Table 10's rows left the prose
    assert "We report the perplexity values on each of the 571 subdomains" in text


@pytest.mark.integration
def test_xlstm_table_10_runs_over_twelve_pages(xlstm_content) -> None:
    parts = _tables(xlstm_content)["Table 10"]
    assert [t.page for t in parts] == list(range(44, 56))
    assert [t.continued for t in parts] == [False] + [True] * 11
    rows = [r for t in parts for r in t.rows]
    assert len(rows) == 572 and all(len(r.cells) == 5 for r in rows)  # 571 domains + #Params
    table, row = _row(xlstm_content, "Table 10", "dolma_100_proglang_val_06_python")
    assert table.page == 46 and table.columns[0] == "Dataset"
    assert table.row_text(row).startswith("Table 10 (PPL Evaluations), 1.3B: Dataset = dolma")
    assert table.row_text(row).endswith(
        "Dataset = dolma_100_proglang_val_06_python; Llama = 2.35; Mamba = 2.39; "
        "RWKV-4 = 2.62; xLSTM[7:1] = 2.36; xLSTM[1:0] = 2.34"
    )
    _, glued = _row(
        xlstm_content, "Table 10", "m2d2_wikipedia_unsplit_val_Health_and_fitness__Nutrition"
    )
    assert glued.cells == ("8.91", "8.68", "9.40", "8.61", "8.47")  # "…Nutrition8.91" in pypdf
    assert table.text().startswith("Table 10: PPL Evaluations") and "(continued)" in table.text()


# Through the pipeline -------------------------------------------------------------------------

GOOD_TABLE = "\n".join(
    [
        "We compare the models on held-out data in the table below.",
        "Model #Params M Perplexity",
        "Zebra-S 125 21.40",
        "Zebra-L 350 17.35",
        "Table 1: Zebra perplexities on held-out data. Larger is better at nothing.",
    ]
)
BROKEN_TABLE = "\n".join(
    [
        "The second table did not survive extraction.",
        "Table 2: Ragged rows.",
        "Model A B C",
        "Horse 1 2 3",
        "Pony 4 5",
        "Foal 6",
        "More prose about horses closes the page.",
    ]
)


def test_tables_are_stored_as_units_and_broken_ones_as_text(tmp_path, store, caplog) -> None:
    from ingest.pipeline import ingest_sources
    from tests.ingest.fakes import paper_pages
    from tests.ingest.pdf_factory import make_text_pdf

    pages = [*paper_pages("zebras", 2), GOOD_TABLE, BROKEN_TABLE]
    pdf = make_text_pdf(tmp_path / "zebra-2301.01234v1.pdf", pages, title="Zebra Stripes")
    with caplog.at_level(logging.WARNING):
        report = ingest_sources([str(pdf)], store)
    assert report.ok and report.results[0].status == "added"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "zebra-2301.01234v1.pdf: 1 table kept as plain text, not parsed into rows: "
        "Table 2 p4 (no rows found)"
    ]
    docs = store.all_documents()
    rows = [d for d in docs if d.metadata["kind"] == "table_row"]
    assert [d.page_content for d in rows] == [
        "Table 1 (Zebra perplexities on held-out data): Model = Zebra-S; #Params M = 125; "
        "Perplexity = 21.40",
        "Table 1 (Zebra perplexities on held-out data): Model = Zebra-L; #Params M = 350; "
        "Perplexity = 17.35",
    ]
    assert rows[0].metadata["table"] == 1 and rows[0].metadata["page"] == 3
    assert [d.metadata["kind"] for d in docs if "Zebra-S" in d.page_content] == [
        "table",
        "table_row",
    ]  # the bare row left the text
    broken = "\n".join(d.page_content for d in docs if d.metadata["page"] == 4)
    assert "Horse 1 2 3" in broken and "Pony 4 5" in broken  # kept as text, nothing lost
