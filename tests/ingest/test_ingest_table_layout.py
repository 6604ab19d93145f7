"""Column names from the page layout where pypdf's header split fails (ingest.table_layout)."""

from __future__ import annotations

import logging

import pytest

from ingest.table_layout import Word, align_columns, align_tables
from ingest.tables import Row, Table

# A gating ablation like the xLSTM paper's Table 2: two group labels over three columns each,
# a value column whose name takes two lines, check marks 2 pt above their row's label.
HEADER = [
    Word("Forget", 251, 272, 472), Word("Gate", 274, 289, 472),
    Word("Input", 378, 395, 472), Word("Gate", 397, 412, 472),
    Word("SlimPajama", 462, 497, 477),
    Word("Gates", 113, 146, 480),
    Word("In", 230, 245, 483), Word("Learnable", 263, 293, 483), Word("Init", 304, 317, 483),
    Word("In", 347, 362, 483), Word("Learnable", 380, 409, 483), Word("Init", 429, 442, 483),
    Word("ppl", 481, 491, 485),
]  # fmt: skip
ROWS = [
    ("No Gates", ["✗", "✗", "0", "✗", "✗", "0", "NaN"], 506),
    ("Forget Gate", ["✓", "✓", "0", "✗", "✗", "0", "13.58"], 524),
    ("Input Gate", ["✗", "✗", "0", "✓", "✓", "N (0, 0.1)", "13.69"], 533),
]
X = [(235, 240), (275, 280), (433, 438)]


def _row_words(label: str, cells: list[str], top: float) -> list[Word]:
    words = [Word(label, 113, 113 + 7 * len(label), top)]
    spans = [*X[:2], (302, 319), (352, 357), (392, 397), (419, 452), (479, 497)]
    for cell, (x0, x1) in zip(cells, spans, strict=True):
        parts = cell.split()
        step = (x1 - x0) / len(parts)
        for i, part in enumerate(parts):  # "N (0, 0.1)" is three words on the page
            mark = cell in ("✓", "✗")
            words.append(Word(part, x0 + i * step, x0 + (i + 1) * step, top - 2 * mark))
    return words


def _table() -> Table:
    rows = tuple(Row(label, tuple(cells)) for label, cells, _ in ROWS)
    header = "Forget Gate Input Gate SlimPajama Gates In Learnable Init In Learnable Init ppl"
    return Table("Table 2", 2, "Ablation studies", 10, header, None, rows)


def test_group_labels_name_each_column_they_span() -> None:
    words = HEADER + [w for label, cells, top in ROWS for w in _row_words(label, cells, top)]
    table = align_columns(_table(), words)
    assert table is not None and table.columns == (
        "Gates",
        "Forget Gate In",
        "Forget Gate Learnable",
        "Forget Gate Init",
        "Input Gate In",
        "Input Gate Learnable",
        "Input Gate Init",
        "SlimPajama ppl",  # alone on its line: it names its own column only, not "Init"
    )
    assert table.row_text(table.rows[2]).endswith(
        "Input Gate Init = N (0, 0.1); SlimPajama ppl = 13.69"
    )


def test_rows_not_on_the_page_or_an_unnamed_column_leave_the_table_unaligned() -> None:
    rows_only = [w for label, cells, top in ROWS for w in _row_words(label, cells, top)]
    assert align_columns(_table(), HEADER[:4] + rows_only) is None  # columns without a name
    assert align_columns(_table(), HEADER) is None  # no row found


def test_a_layout_failure_keeps_the_tables(monkeypatch, caplog) -> None:
    def broken(path, pages):
        raise ValueError("bad xref")

    monkeypatch.setattr("ingest.table_layout.page_words", broken)
    with caplog.at_level(logging.WARNING, logger="ingest.table_layout"):
        assert align_tables("paper.pdf", [_table()]) == [_table()]
    assert "bad xref" in caplog.records[0].getMessage()


@pytest.mark.integration
def test_xlstm_wide_and_grouped_headers_get_their_columns(xlstm_content) -> None:
    tables = {(t.name, t.page, t.rows[0].label): t for t in xlstm_content.tables}
    table9 = tables[("Table 9", 43, "RWKV-4")]
    assert table9.columns == ("Model", "#Params M", "Twitter AAE", "Manosphere", "4CHAN", "GAB")
    [row] = [r for r in table9.rows if r.label == "xLSTM[1:0]" and r.group == "350M"]
    assert table9.row_text(row).endswith(
        "Twitter AAE = 200.61; Manosphere = 24.58; 4CHAN = 11.20; GAB = 39.83"
    )
    gating = tables[("Table 2", 10, "No Gates")]
    [row] = [r for r in gating.rows if r.label == "Forget Gate Bias"]
    assert gating.row_text(row) == (
        "Table 2 (Ablation studies): Learnable Gates = Forget Gate Bias; "
        "Forget Gate Input Dependent = ✗; Forget Gate Learnable Bias = ✓; "
        "Forget Gate Bias Init = [3, 6]; Input Gate Input Dependent = ✗; "
        "Input Gate Learnable Bias = ✗; Input Gate Bias Init = 0; SlimPajama (15B) ppl ↓ = 13.76"
    )
    palooma = tables[("Table 4", 12, "RWKV-4")]
    assert palooma.columns[8:11] == ("Dolma", "M2D2 S2ORC", "M2D2 Wikipedia")
