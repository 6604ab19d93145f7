"""The cells of a table-row unit (`app.table_cells`): the asked column, the row's label and
model size, the closest-row mark, what a row lacks of the question."""

from app.table_cells import joined_words, parse_row, row_gaps, table_answer, wh_measure
from tests.helpers.table_rows import ABLATION, ROW
from tests.helpers.table_rows import traceable as _traceable


def test_parse_row_reads_table_caption_and_cells():
    table, caption, cells = parse_row(ROW)
    assert (table, caption) == ("Table 1", "Method comparison on SlimPajama 15B")
    assert cells == [("Model", "GPT-3"), ("#Params M", "356"), ("SlimPajama (15B) ppl ↓", "14.26")]
    assert parse_row("GPT-3 356 14.26") is None  # a bare row is no self-describing unit
    assert parse_row("Table 1: no cells here") is None
    # a wide table's row keeps its bare label first; a row of bare parts only is no row
    bare = "Table 6 (Associative recall): Llama; G-Image acc ↑ = 0.61; RGB-Image acc ↑ = 0.85"
    assert parse_row(bare)[2][0] == ("", "Llama")
    assert parse_row("Table 6 (Associative recall): Llama") is None


def test_table_answer_takes_the_asked_column_with_its_row():
    q = "Which perplexity does GPT-3 reach on SlimPajama in Table 1?"
    assert table_answer(q, ROW) == "14.26 — GPT-3, Table 1, SlimPajama (15B) ppl ↓"
    assert table_answer("How many parameters (M) does GPT-3 have?", ROW).startswith("356 — GPT-3")
    assert _traceable(table_answer(q, ROW), ROW)


def test_a_row_that_is_not_the_asked_one_is_marked_closest():
    q = "What perplexity does Mamba reach in Table 1?"
    text = table_answer(q, ROW)
    assert text.startswith("closest row (no row for Mamba): 14.26 — GPT-3")


def test_a_hyphenated_column_name_picks_its_own_column_and_a_bare_label_names_the_row():
    row = "Table 6 (Image tasks): Llama; G-Image acc ↑ = 0.61; RGB-Image acc ↑ = 0.85"
    q = "What accuracy does Llama reach on G-Image?"
    assert table_answer(q, row).startswith("0.61 — Llama, Table 6, G-Image acc ↑")
    assert table_answer("What accuracy does Llama reach on RGB-Image?", row).startswith("0.85")


def test_the_ablation_value_is_read_from_its_row():
    q = "What perplexity does the vanilla LSTM reach in the ablation?"
    assert table_answer(q, ABLATION).startswith("2417.86 — Vanilla LSTM, Table 2")


def test_a_row_group_joins_the_table_label():
    row = (
        "Table 3 (Validation set perplexity and downstream tasks), 1.3B: Model = xLSTM[1:0]; "
        "#Params M = 1422.6; SlimPajama (300B) ppl ↓ = 8.89; Average acc ↑ = 58.48"
    )
    q = "What validation perplexity does the 1.3B xLSTM[1:0] reach after 300B tokens in Table 3?"
    assert table_answer(q, row) == "8.89 — xLSTM[1:0], Table 3 (1.3B), SlimPajama (300B) ppl ↓"
    q = "What average downstream accuracy does xLSTM[1:0] reach in Table 3?"
    assert table_answer(q, row).startswith("58.48 — xLSTM[1:0]")


def test_a_row_of_another_table_is_marked_closest():
    q = "What embedding dimension does the 1.3B xLSTM have in Table 7?"
    row = "Table 8 (Variants): Model = xLSTM[1:0]; Embedding Dim = 1024"
    expected = "closest row (no row for 1.3B, Table 7): 1024 — xLSTM[1:0]"  # nor for its size
    assert table_answer(q, row).startswith(expected)


def test_an_abbreviation_glossed_after_a_common_phrase_is_no_missing_model():
    row = "Table 5: Task = ListOps; Batch Size = 32; Training Steps = 80k"
    # "(BS)" is what acronym expansion adds after "batch size": no model the row must name
    assert row_gaps("For ListOps, what batch size (BS) was used?", row) == []
    gla = "Table 1: Model = GLA; #Params M = 412; SlimPajama (15B) ppl = 16.15"
    assert row_gaps("What does Gated Linear Attention (GLA) reach?", gla) == []
    assert row_gaps("What does Gated Linear Attention (GLA) reach?", row) == ["GLA"]


def test_the_measure_asked_for_outweighs_the_words_of_the_condition() -> None:
    question = (
        "In the gating ablation, what perplexity does xLSTM[1:0] reach when only the input gate "
        "is learnable?"
    )
    assert wh_measure(question) == {"ppl"}
    assert wh_measure("What HellaSwag accuracy does Mamba reach?") == {"acc"}
    assert wh_measure("Which model is best?") == set()
    row = (
        "Table 2 (Ablation studies): Learnable Gates = Input Gate; Input Gate Learnable Bias = ✓; "
        "Input Gate Bias Init = N (0, 0.1); SlimPajama (15B) ppl ↓ = 13.69"
    )
    assert table_answer(question, row).endswith(
        "13.69 — Input Gate, Table 2, SlimPajama (15B) ppl ↓"
    )


def test_a_name_written_without_its_space_finds_its_column() -> None:
    question = "What perplexity does the 1.3B Llama model have on TwitterAAE?"
    row = (
        "Table 9 (Perplexity values per domain), 1.3B: Model = Llama; #Params M = 1420.4; "
        "Twitter AAE = 192.52; Manosphere = 20.67"
    )
    assert "twitteraae" in joined_words("Twitter AAE = 192.52")
    assert row_gaps(question, row) == []
    assert table_answer(question, row) == "192.52 — Llama, Table 9 (1.3B), Twitter AAE"


def test_headers_run_together_or_abbreviated_still_name_their_column():
    row = (
        "Table 7 (Peak learning rates and model dimensions for scaling law plots), 2.7B: "
        "Model = xLSTM; EmbeddingDim = 2560; #Blocks = 64; #Params M = 2788.3"
    )
    q = "What embedding dimension does the 2.7B-size xLSTM use in the scaling-law models?"
    assert table_answer(q, row).startswith("2560 — xLSTM")
    row = "Table 4 (PALOMA), 125M: Model = xLSTM[7:1]; C4 = 22.39; Dolma = 14.13; Average = 19.44"
    q = "What is the average PALOMA perplexity of the 125M xLSTM[7:1]?"
    assert table_answer(q, row).startswith("19.44 — xLSTM[7:1]")
