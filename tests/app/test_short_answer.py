"""The direct short answer (`app.short_answer`): cut from one quoted unit, every word
traceable to it. The table-row cells it reads are tested in `test_table_cells.py`."""

import pytest

from app.evidence import Candidate
from app.short_answer import short_answer
from app.spans import compound_number_span, head_noun, name_span, number_span, question_parts
from app.table_cells import table_answer
from tests.helpers.table_rows import ROW
from tests.helpers.table_rows import traceable as _traceable


def _unit(text, kind="text"):
    return Candidate(text, 0, {"page": 9}, kind=kind)


@pytest.mark.parametrize(
    ("question", "text", "span"),
    [
        (
            "How much slower is the mLSTM kernel than FlashAttention?",
            "The current implementation is about 4 times slower than FlashAttention.",
            "about 4 times slower",
        ),
        (
            "Up to which context length are the models tested?",
            "Models are trained with context length 2048 and tested up to 16384.",
            "up to 16384",
        ),
        (
            "At which block positions are the sLSTM blocks placed in xLSTM[7:1]?",
            "For xLSTM[7:1], we use positions [3, 5, 7, 40, 42, 44] for sLSTM-based blocks.",
            "[3, 5, 7, 40, 42, 44]",
        ),
        (
            "What perplexity does xLSTM reach?",
            "xLSTM reaches a perplexity of 13.43 after 15B tokens (Sun et al., 2023).",
            "13.43",
        ),
    ],
)
def test_number_span_cuts_the_number_with_its_unit(question, text, span):
    assert number_span(question, text) == span
    assert span in text


def test_number_span_refuses_what_is_not_the_asked_number():
    q = "What perplexity does xLSTM[1:0] reach after 300B tokens?"
    assert (
        number_span(q, "xLSTM[1:0] has in 568 out of 571 (99.5%) text domains a lower perplexity")
        is None
    )
    assert number_span(q, "It is trained on 300B tokens.") is None  # the question's own number
    assert number_span(q, "We follow (Sun et al., 2023) for perplexity.") is None
    assert number_span("How many heads are used?", "2.5 Heads are described below.") is None
    assert number_span("How many layers?", "No numbers here.") is None
    wino = "What WinoGrande accuracy does the 760M xLSTM[1:0] achieve?"
    assert number_span(wino, "The 1.3B models are trained on more data.") is None  # a size
    # the number of a table, figure or section the text points to is no answer
    lra = "Which learning rates were tried in the Long Range Arena experiments?"
    assert number_span(lra, "Table 6 shows the result of the Long Range Arena runs.") is None
    assert (
        number_span("How many heads are used?", "As Figure 3 shows, we use 4 heads.") == "4 heads"
    )
    # "how much X": the number must stand near X, not near any word of the question
    batch = "The 1.3B models are trained with batch size 512, the others with 256."
    assert number_span("How much GPU memory does training with batch size 512 need?", batch) is None
    assert (
        number_span("How many training steps are used?", "We train for 300k steps.") == "300k steps"
    )
    # the clause naming the asked model size wins over a nearer number of another size
    sizes = "The 760M models are trained for 320k steps, whereas the 1.3B models use 300k steps."
    assert number_span("For how many steps are the 1.3B models trained?", sizes) == "300k steps"
    assert number_span("How many steps are the 760M models trained?", sizes) == "320k steps"
    assert number_span("What image size is used?", "Images are 32x32 pixels.") == "32x32"
    # "what context length": the number must stand near the asked measure too
    q = "What context length and batch size were used for the rare token experiment?"
    assert number_span(q, "For the rare token experiment, we trained 125M-sized models.") is None
    assert number_span(q, "We train with context length 512 and batch size 256.") in ("512", "256")


def test_name_span_reads_the_name_at_the_head_noun():
    q = "Which tokenizer is used for all models in the paper?"
    assert head_noun(q) == "tokenizer"
    text = "We tokenize our datasets using the HuggingFace GPT-2 tokenizer (Radford et al., 2019)."
    assert name_span(q, text) == "HuggingFace GPT-2 tokenizer"
    assert name_span(q, "We use a tokenizer.") is None
    assert name_span("Explain the model.", text) is None


def test_short_answer_skips_captions_and_why_questions_and_keeps_its_unit():
    caption = _unit("Table 1: Perplexity 14.26 of GPT-3.", "caption")
    row = _unit(ROW, "table_row")
    short = short_answer("Which perplexity does GPT-3 reach?", [caption, row])
    assert short is not None and short.units == (row,) and short.text.startswith("14.26")
    assert short_answer("Why is GPT-3 worse?", [row]) is None
    assert short_answer("Which perplexity does GPT-3 reach?", []) is None
    assert short_answer("Which perplexity does GPT-3 reach?", [_unit("no value")]) is None
    # a name question gets a row's cell only when it states one of the row's values
    assert short_answer("Which activation function does GPT-3 use?", [row]) is None
    by_value = short_answer("Which model reaches a perplexity of 14.26?", [row])
    assert by_value is not None and "GPT-3" in by_value.text


def test_rows_the_question_also_names_join_the_short_answer():
    q = "What validation perplexity do xLSTM[1:0] and xLSTM[7:1] reach in Table 1?"
    first = _unit("Table 1 (C): Model = xLSTM[1:0]; ppl = 13.43", "table_row")
    second = _unit("Table 1 (C): Model = xLSTM[7:1]; ppl = 13.48", "table_row")
    other_table = _unit("Table 2 (C): Model = xLSTM[7:1]; ppl = 99.99", "table_row")
    short = short_answer(q, [first], pool=[other_table, first, second])
    assert short.text == "13.43 — xLSTM[1:0], Table 1, ppl; 13.48 — xLSTM[7:1]"
    assert short.units == (first, second)
    assert _traceable(short.text, first.text + second.text)


def test_a_bare_word_number_is_no_short_answer():
    q = "Up to how many key-value pairs are used?"
    assert number_span(q, "There are two relevant variables for key-value pairs.") is None


def test_a_question_about_each_row_gets_the_value_of_every_row_of_the_table():
    q = "Which modifications does the ablation of Table 2 add, and what perplexity does each reach?"
    rows = [
        _unit(f"Table 2 (Ablation): Model Modification = {m}; ppl = {v}", "table_row")
        for m, v in (
            ("Vanilla LSTM", "2417.86"),
            ("Adding Resnet", "35.46"),
            ("Adding Gating", "17.70"),
        )
    ]
    other_table = _unit("Table 1 (C): Model = Mamba; ppl = 13.70", "table_row")
    short = short_answer(q, rows[:1], pool=[other_table, *rows])
    assert short.text == (
        "2417.86 — Vanilla LSTM, Table 2, ppl; 35.46 — Adding Resnet; 17.70 — Adding Gating"
    )
    assert [u.text for u in short.units] == [r.text for r in rows]


def test_a_number_inside_a_name_is_no_answer_and_a_learning_rate_is_one():
    q = "What peak learning rate was used for RWKV-4?"
    assert number_span(q, "As RWKV-6 performs worse, we use a peak learning rate 4e-4.") == "4e-4"


def test_the_unit_naming_the_asked_model_and_size_gives_the_short_answer():
    q = "What peak learning rate was used for the 1.3B RWKV-4?"
    sentence = _unit("As RWKV-6 performs worse, we also use a peak learning rate 4e-4.")
    row = _unit("Table 7 (LR), 1.3B: Model = RWKV-4; Peak LR = 2e-4", "table_row")
    assert short_answer(q, [sentence, row]).text.startswith("2e-4 — RWKV-4, Table 7 (1.3B)")


def test_a_row_naming_every_asked_model_and_size_beats_a_closer_ranked_one() -> None:
    from app.evidence import Candidate
    from app.short_answer import short_answer

    meta = {"source": "paper.pdf", "table": 3, "kind": "table_row"}
    cap = "Table 3 (Validation set perplexity and downstream tasks)"
    r760 = Candidate(f"{cap}, 760M: Model = Llama; LAMBADA ppl ↓ = 9.90", 0, meta, kind="table_row")
    r13 = Candidate(f"{cap}, 1.3B: Model = Llama; LAMBADA ppl ↓ = 7.23", 5, meta, kind="table_row")
    question = "What LAMBADA perplexity does the 1.3B Llama model have?"
    short = short_answer(question, [r760], pool=[r760, r13])
    assert short is not None and short.text.startswith("7.23 — Llama, Table 3 (1.3B)")
    assert short.units[0] is r13 and not short.missing


def _row(text: str, table: int) -> Candidate:
    return Candidate(text, 0, {"source": "paper.pdf", "table": table}, kind="table_row")


PPL_ROW = (  # a row of the per-dataset perplexity table: both models, no accuracy column
    "Table 10 (PPL Evaluations), 1.3B: Dataset = m2d2_wikipedia; Mamba = 13.23; xLSTM[1:0] = 12.97"
)
ACC_ROW = (
    "Table 3 (Validation set perplexity and downstream tasks), 1.3B: Model = xLSTM[1:0]; "
    "HellaSwag acc ↑ = 60.91; Average acc ↑ = 58.48"
)
MAMBA_ROW = (
    "Table 3 (Validation set perplexity and downstream tasks), 1.3B: Model = Mamba; "
    "HellaSwag acc ↑ = 60.45; Average acc ↑ = 58.41"
)


def test_a_row_with_the_asked_measure_beats_a_higher_ranked_row_without_it() -> None:
    ppl, acc, mamba = _row(PPL_ROW, 10), _row(ACC_ROW, 3), _row(MAMBA_ROW, 3)
    q = "After 300B tokens, what HellaSwag accuracy do the 1.3B xLSTM[1:0] and Mamba reach?"
    short = short_answer(q, [ppl, acc], pool=[ppl, acc, mamba])
    assert short.text == "60.91 — xLSTM[1:0], Table 3 (1.3B), HellaSwag acc ↑; 60.45 — Mamba"
    assert short.units == (acc, mamba) and not short.missing


def test_a_row_of_the_table_the_question_names_beats_one_of_another_table() -> None:
    ppl, acc, mamba = _row(PPL_ROW, 10), _row(ACC_ROW, 3), _row(MAMBA_ROW, 3)
    q = "What average downstream accuracy do the 1.3B xLSTM[1:0] and Mamba reach in Table 3?"
    short = short_answer(q, [ppl, acc], pool=[ppl, acc, mamba])
    assert short.text == "58.48 — xLSTM[1:0], Table 3 (1.3B), Average acc ↑; 58.41 — Mamba"
    # without the measure or the table named, the row naming both models still goes first
    q = "What do the 1.3B xLSTM[1:0] and Mamba reach on m2d2_wikipedia?"
    assert short_answer(q, [ppl, acc], pool=[ppl, acc, mamba]).units[0] is ppl


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "What embedding dimension and how many residual blocks do the models have?",
            [
                ("What embedding dimension do the models have?", "embedding dimension"),
                ("how many residual blocks do the models have?", "residual blocks"),
            ],
        ),
        (
            "Up to how many key-value pairs and what context length are used in the test?",
            [
                ("Up to how many key-value pairs are used in the test?", "key-value pairs"),
                ("what context length are used in the test?", "context length"),
            ],
        ),
        ("What perplexity do Llama and Mamba reach on SlimPajama?", []),  # two models, one measure
        ("Which of RWKV-5 and RWKV-6 copes better?", []),
    ],
)
def test_a_compound_question_splits_into_one_question_per_measure(question, parts):
    assert question_parts(question) == parts


def test_a_compound_number_question_gets_a_number_for_each_part():
    text = "All models have an embedding dimension of 768 and a structure of 12 residual blocks."
    q = "What embedding dimension and how many residual blocks do the models have?"
    expected = "768 (embedding dimension); 12 (residual blocks)"
    assert compound_number_span(q, text) == expected
    assert short_answer(q, [_unit(text)]).text == expected
    q = "How many layers and hidden units did the default LSTM have?"
    text = "We start with a default LSTM with 24 layers and 1536 hidden size."
    assert compound_number_span(q, text) == "24 layers; 1536 (hidden units)"
    assert compound_number_span("What embedding dimension do the models have?", text) is None
    one = "All models have an embedding dimension of 768."  # states one of the two: that one
    q = "What embedding dimension and how many residual blocks do the models have?"
    assert compound_number_span(q, one) == "768" == short_answer(q, [_unit(one)]).text


def test_a_compound_table_question_gets_a_cell_per_measure_and_per_named_row():
    acc, mamba = _row(ACC_ROW, 3), _row(MAMBA_ROW, 3)
    q = "What HellaSwag accuracy and average accuracy do the 1.3B xLSTM[1:0] and Mamba reach?"
    short = short_answer(q, [acc], pool=[acc, mamba])
    assert short.text == (
        "60.91 (HellaSwag acc ↑); 58.48 (Average acc ↑) — xLSTM[1:0], Table 3 (1.3B); "
        "60.45 / 58.41 — Mamba"
    )
    assert _traceable(short.text.replace("/", ""), ACC_ROW + MAMBA_ROW)
    one = "What HellaSwag accuracy does the 1.3B xLSTM[1:0] reach?"  # one measure: as before
    assert table_answer(one, ACC_ROW) == "60.91 — xLSTM[1:0], Table 3 (1.3B), HellaSwag acc ↑"
