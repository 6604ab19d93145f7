"""The UI's pure helpers: safe Markdown, citation chips, highlighting, evidence differences."""

from __future__ import annotations

from app.answer import Answer, Source
from app.compose import Citation
from app.ui_evidence import (
    answer_display,
    answer_markdown,
    chip,
    cited_pages,
    diff_summary,
    escape_markdown,
    evidence_diff,
    format_count,
    highlight_html,
    quote_line,
    read_lines,
    row_cells,
    row_label,
    source_citations,
    supporting_quotes,
)

PAPER = "xlstm-2405.04517v2.pdf"
TITLE = "xLSTM: Extended Long Short-Term Memory"


def make_answer(pages: list[int], cited: list[tuple[int, str]] = ()) -> Answer:
    return Answer(
        question="q",
        text="t",
        refused=False,
        mode="extractive",
        citations=[Citation(PAPER, page, quote) for page, quote in cited],
        sources=[Source(PAPER, p, 0.5, f"text of page {p}", f"c{p}", title=TITLE) for p in pages],
    )


def test_escape_markdown_keeps_text_literal() -> None:
    assert escape_markdown("cost $5 and $6, a*b_c <b>") == r"cost \$5 and \$6, a\*b\_c \<b\>"
    assert escape_markdown("- item").startswith("- ")


def test_answer_markdown_turns_citations_into_chips() -> None:
    md = answer_markdown("The mLSTM has a matrix memory [xLSTM, p. 5]. Cost $1 [xLSTM, p. 10]")
    assert ":gray-badge[xLSTM p. 5]" in md and ":gray-badge[xLSTM p. 10]" in md
    assert r"\$1" in md
    assert answer_markdown("xLSTM[7:1] has 7 mLSTM blocks") == r"xLSTM[7:1] has 7 mLSTM blocks"


def test_chip_strips_markdown_breakers() -> None:
    assert chip("a]b[c:d", "orange") == ":orange-badge[a b c d]"


def test_evidence_diff_shared_and_unique() -> None:
    answers = {"similarity": make_answer([1, 3, 9]), "compression": make_answer([3, 4, 1])}
    diff = evidence_diff(answers)
    assert diff.shared == [(PAPER, 1), (PAPER, 3)]
    assert diff.unique == {"similarity": [(PAPER, 9)], "compression": [(PAPER, 4)]}
    assert diff.only_in("similarity", (PAPER, 9))
    assert not diff.only_in("compression", (PAPER, 9))
    line = diff_summary(diff, {"similarity": "Similarity"}, {PAPER: TITLE})
    assert "shared: xLSTM p. 1, 3" in line
    assert ":orange-badge[only Similarity] xLSTM p. 9" in line
    assert ":orange-badge[only compression] xLSTM p. 4" in line


def test_evidence_diff_of_three_and_none() -> None:
    answers = {"a": make_answer([1, 2]), "b": make_answer([2, 3]), "c": make_answer([2, 3])}
    diff = evidence_diff(answers)
    assert diff.shared == [(PAPER, 2)]
    assert diff.unique == {"a": [(PAPER, 1)], "b": [], "c": []}
    assert evidence_diff({}).shared == []


def test_highlight_marks_quotes_and_escapes() -> None:
    text = "Intro <b>bold</b>.  The mLSTM has a\nmatrix memory. End."
    out = highlight_html(text, ["The mLSTM has a matrix memory.", "not there"])
    assert out == "Intro &lt;b&gt;bold&lt;/b&gt;. <mark>The mLSTM has a matrix memory.</mark> End."
    assert highlight_html("a b", []) == "a b"


def test_supporting_quotes_and_cited_pages() -> None:
    answer = make_answer([5, 9], cited=[(5, "q5"), (9, "q9"), (5, "q5b")])
    assert cited_pages(answer) == [(PAPER, 5), (PAPER, 9)]
    assert supporting_quotes(answer, answer.sources[0]) == ["q5", "q5b"]


def test_format_count() -> None:
    assert format_count(3_210_000) == "3.21 M"
    assert format_count(12_500) == "12.5 k"
    assert format_count(2.4e9) == "2.4 B"
    assert format_count(None) == "–"
    assert format_count(7) == "7"


def test_model_facts() -> None:
    from app.ui_sidebar import model_facts

    card = {
        "config": {"num_blocks": 8, "slstm_at": [1], "embedding_dim": 256, "context_length": 256},
        "meta": {"params": 3_210_000, "tokens_seen": 12_500_000, "val_ppl": 21.456},
    }
    facts = dict(model_facts(card))
    assert facts["Architecture"] == "xLSTM[7:1], 8 blocks × 256 wide"
    assert facts["Parameters"] == "3.21 M" and facts["Training tokens"] == "12.5 M"
    assert facts["Validation perplexity"] == "21.5"
    assert dict(model_facts({}))["Validation perplexity"] == "–"
    assert "Reader, held-out papers" not in facts
    card["meta"].update(reader_acc=0.41, chance=0.125, span_exact=0.3)
    reader = dict(model_facts(card))["Reader, held-out papers"]
    assert reader == "0.41 first (chance 0.12), exact span 0.30"
    card["token_reader"] = {
        "heldout_first": 0.932,
        "chance": 0.125,
        "params": 157545,
        "steps": 2938,
    }
    token = dict(model_facts(card))["Token reader (xLSTM on MiniLM states), held-out papers"]
    assert token == "0.93 first (chance 0.12), 158 k parameters, 2,938 steps"
    card["token_reader"]["heldout_span_exact"] = 0.391
    token = dict(model_facts(card))["Token reader (xLSTM on MiniLM states), held-out papers"]
    assert token == "0.93 first (chance 0.12), exact span 0.39, 158 k parameters, 2,938 steps"
    card["token_reader"]["members"] = 2
    token = dict(model_facts(card))["Token reader (xLSTM on MiniLM states), held-out papers"]
    assert token.endswith("2,938 steps (2 readers of different seeds, averaged)")
    card["token_reader"] = None  # a model trained before the token reader existed
    assert len(model_facts(card)) == 6


ROW = (
    "Table 1 (Method comparison on SlimPajama 15B): Model = GPT-3; #Params M = 356; "
    "SlimPajama (15B) ppl ↓ = 14.26"
)


def _answer_with(short, text, citations):
    return Answer("q", text, False, "extractive", citations=citations, short_answer=short)


def test_answer_display_puts_the_short_answer_first_in_bold():
    cite = Citation("x.pdf", 9, ROW, kind="table_row", score=0.8, reader=0.05)
    short = "14.26 — GPT-3, Table 1, SlimPajama (15B) ppl ↓"
    shown = answer_display(_answer_with(short, f"{short}\n\n{ROW} [xLSTM, p. 9]", [cite]))
    assert shown.startswith("**14.26 — GPT-3, Table 1, SlimPajama (15B) ppl ↓**\n\n")
    assert ":gray-badge[xLSTM p. 9]" in shown
    plain = answer_display(_answer_with(None, "Text. [xLSTM, p. 2]", []))
    assert not plain.startswith("**") and ":gray-badge[xLSTM p. 2]" in plain
    cut = _answer_with("14.26", f"14.26\n\n{ROW} [xLSTM, p. 9]", [cite])
    cut.short_answer_by = "xlstm"  # the token reader's span (short_source)
    assert answer_display(cut).startswith("**14.26** *(the xLSTM's span)*\n\n")
    cut.short_answer_by = "phrase"  # what the best quote adds to the question (the rules)
    assert answer_display(cut).startswith("**14.26** *(what the best quote adds)*\n\n")


def test_table_row_quotes_get_a_row_chip_and_cells_other_quotes_none():
    row = Citation("x.pdf", 9, ROW, kind="table_row", score=0.8, reader=0.05)
    text = Citation("x.pdf", 2, "A sentence.", kind="text", score=0.7, reader=-0.1)
    assert row_label(row) == "Table 1, row GPT-3"
    assert row_cells(row) == {
        "Model": ["GPT-3"],
        "#Params M": ["356"],
        "SlimPajama (15B) ppl ↓": ["14.26"],
    }
    assert row_label(text) is None and row_cells(text) is None
    broken = Citation("x.pdf", 9, "GPT-3 356 14.26", kind="table_row")
    assert row_label(broken) is None and row_cells(broken) is None
    bare = Citation("x.pdf", 12, "Table 4 (PALOMA): Llama; C4 = 280.54", kind="table_row")
    assert row_cells(bare) == {"row": ["Llama"], "C4": ["280.54"]}
    assert quote_line(row) == "score 0.800 · reader +0.050 · table_row"
    assert quote_line(text) == "score 0.700 · reader -0.100 · text"
    read = Citation("x.pdf", 2, "A sentence.", kind="text", score=0.7, reader=0.03, xlstm=0.041)
    assert quote_line(read) == "score 0.700 · reader +0.030 (xLSTM +0.041) · text"
    read.span = "A sentence"
    assert (
        quote_line(read) == "score 0.700 · reader +0.030 (xLSTM +0.041, span “A sentence”) · text"
    )


def test_source_citations_are_the_quotes_found_in_that_source():
    source = Source("x.pdf", 2, 0.5, "Intro. A sentence. More.")
    quoted = Citation("x.pdf", 2, "A sentence.")
    other_page = Citation("x.pdf", 3, "A sentence.")
    elsewhere = Citation("x.pdf", 2, "Not in this chunk.")
    answer = _answer_with(None, "", [quoted, other_page, elsewhere])
    assert source_citations(answer, source) == [quoted]


def test_read_lines_show_the_units_quoted_beyond_the_passages_with_their_pages():
    answer = make_answer([3])
    assert read_lines(answer) == []
    answer.read = [Source(PAPER, 4, 0.0, "The *next* sentence: $1.", "c4", title=TITLE)]
    assert read_lines(answer) == [r":gray-badge[xLSTM p. 4] The \*next\* sentence: \$1."]
