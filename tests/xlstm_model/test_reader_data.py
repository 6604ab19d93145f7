"""Reader questions and groups: per unit kind on the real xLSTM paper, and bad input."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import mirror_pdf
from xlstm_model.data import Unit, corpus_units
from xlstm_model.errors import ModelError
from xlstm_model.reader_data import (
    _words,
    build_groups,
    collate_reader,
    encode_group,
    encode_pair,
    heldout_papers,
    split_groups,
)
from xlstm_model.reader_questions import (
    FORMS,
    MAX_ROWS_PER_TABLE,
    build_questions,
    corpus_synonyms,
    table_question,
)
from xlstm_model.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def xlstm_units() -> list[Unit]:
    pdf = mirror_pdf("xlstm-2405.04517v2.pdf")
    if pdf is None:
        pytest.skip("the paper mirror (../shared/papers) is absent")
    return corpus_units([pdf])


@pytest.fixture(scope="module")
def tokenizer(xlstm_units):
    return train_tokenizer([" ".join(u.text for u in xlstm_units)], 512)


def test_units_carry_the_ingest_kinds(xlstm_units) -> None:
    kinds = Counter(u.kind for u in xlstm_units)
    assert {"text", "table_row", "caption", "equation"} <= set(kinds)
    gpt3 = [u for u in xlstm_units if u.kind == "table_row" and "Model = GPT-3;" in u.text]
    assert gpt3[0].table == "Table 1" and "SlimPajama" in gpt3[0].caption


def test_every_form_builds_quoted_questions_from_the_paper(xlstm_units) -> None:
    questions = build_questions(xlstm_units, seed=0)
    forms = Counter(q.form for q in questions)
    assert set(forms) == set(FORMS), forms
    for q in questions:
        assert q.answer.strip() and q.unit.text[q.start : q.end] == q.answer
        assert q.text.endswith("?"), q.text
        assert q.form == "comparison" or q.answer not in q.text, (q.text, q.answer)


def test_a_long_table_gives_at_most_its_share_of_row_questions(xlstm_units) -> None:
    def row(table: int, i: int) -> Unit:
        text = f"Table {table} (Toy results): Model = m{i}; Score = {i}.5"
        return Unit("toy.pdf", "table_row", text, "", 1, "Toy results", f"Table {table}")

    units = [row(5, i) for i in range(80)] + [row(6, i) for i in range(10)]
    rows = Counter(q.unit.table for q in build_questions(units) if q.form == "table")
    assert rows["Table 5"] == MAX_ROWS_PER_TABLE and rows["Table 6"] == 10
    real = Counter(q.unit.table for q in build_questions(xlstm_units) if q.form == "table")
    assert real["Table 1"] == 14  # every row of an ordinary table


def test_table_row_question_asks_for_a_cell_of_its_row(xlstm_units) -> None:
    row = next(u for u in xlstm_units if "Model = GPT-3;" in u.text and u.table == "Table 1")
    q = table_question(row, random.Random(0), {})
    assert q is not None and q.answer in ("356", "14.26")
    assert "GPT-3" in q.text and q.unit is row


def test_rows_grouped_under_a_model_size_are_asked_about_with_their_size(xlstm_units) -> None:
    asked = Counter(q.unit.table for q in build_questions(xlstm_units) if q.form == "table")
    assert all(asked[t] == 20 for t in ("Table 3", "Table 4", "Table 9"))  # 4 sizes x 5 models
    row = next(u for u in xlstm_units if u.text.startswith("Table 3 (") and ", 125M: " in u.text)
    q = table_question(row, random.Random(0), {})
    assert q is not None and "(125M)" in q.text and q.answer in row.text.split("125M: ")[1]
    same_size = [q for q in build_questions(xlstm_units) if q.form == "comparison"]
    for q in (q for q in same_size if q.unit.table == "Table 3"):
        size = q.unit.text.split(": ", 1)[0].rsplit(", ", 1)[1]
        assert f"at {size}," in q.text and f", {size}: " in q.rivals[0]


def test_table_comparisons_name_the_better_row_and_keep_the_other_as_rival(xlstm_units) -> None:
    comparisons = [q for q in build_questions(xlstm_units) if q.form == "comparison"]
    table1 = [q for q in comparisons if "Table 1" in q.unit.text and "lower" in q.text]
    assert table1
    for q in table1:  # ppl ↓: the answering row's perplexity is the lower one
        mine = float(q.unit.text.rsplit("= ", 1)[1])
        rival = float(q.rivals[0].rsplit("= ", 1)[1])
        assert mine < rival and q.answer in q.text


def test_questions_are_paraphrased_with_corpus_synonyms(xlstm_units) -> None:
    synonyms = corpus_synonyms(xlstm_units)
    assert synonyms["SSMs"] == "State Space Models" and synonyms["State Space Models"] == "SSMs"
    questions = [q for q in build_questions(xlstm_units) if q.form in ("number", "causal")]
    copied = [q for q in questions if _words(q.text) <= _words(q.unit.text)]
    assert len(copied) < len(questions) / 2  # most questions use words the unit does not


def test_hard_negatives_lack_the_answer_and_word_overlap_cannot_pick_the_unit(
    xlstm_units,
) -> None:
    groups = build_groups(xlstm_units, seed=0)
    assert groups and all(len(g.texts) == 8 for g in groups)
    overlap_first = 0
    for g in groups:
        q = g.question
        assert g.texts[0] == q.unit.text
        assert all(q.answer.strip() not in t for t in g.texts[1:])
        echoes = [t for t in g.texts if t.startswith("In this section we ask")]
        assert len(echoes) == (q.form != "comparison")
        if q.rivals:
            assert g.texts[1] == q.rivals[0]
        overlaps = [len(_words(q.text) & _words(t)) for t in g.texts]
        overlap_first += overlaps.index(max(overlaps)) == 0
    assert overlap_first / len(groups) < 0.3  # measured 0.11 (chance 0.125)


def test_whole_papers_are_held_out() -> None:
    papers = [f"paper{i}.pdf" for i in range(20)]
    held = heldout_papers(papers)
    assert len(held) == 3 and held == heldout_papers(list(reversed(papers)))
    assert heldout_papers(["one.pdf"]) == set()
    units = [
        Unit(p, "text", f"The {w} gate is a device that scales {w} values in {p[:-4]}.", "S")
        for p in papers
        for w in ("input", "forget", "output")
    ]
    groups = build_groups(units, group_size=3)
    assert {g.split for g in groups} == {"train", "val"}
    for g in groups:
        assert (g.split == "val") == (g.question.unit.paper in held)


def test_bad_input(tokenizer) -> None:
    with pytest.raises(ModelError, match="yield no reader questions"):
        build_groups([])
    prose = [Unit("a.txt", "text", "Words without any facts here at all.")] * 3
    with pytest.raises(ModelError, match="--qa rank"):
        build_groups(prose)


def test_a_corpus_without_tables_still_yields_prose_questions() -> None:
    units = [
        Unit("a.txt", "text", "The forget gate is a sigmoid unit that scales the cell state."),
        Unit("a.txt", "text", "We trained the model on 15B tokens of text."),
        Unit("a.txt", "text", "Training diverged because the learning rate was too high."),
    ] + [Unit("a.txt", "text", f"Filler sentence number {i} says nothing.") for i in range(8)]
    forms = {q.form for q in build_questions(units)}
    assert {"definition", "number", "causal"} <= forms and "table" not in forms


def test_span_tokens_point_at_the_answer(xlstm_units, tokenizer) -> None:
    groups = build_groups(xlstm_units, seed=0)
    found = 0
    for g in groups[:40]:
        encoded = encode_group(tokenizer, g, 256)
        start, end = encoded.span
        if start < 0:
            continue
        found += 1
        text = tokenizer.decode(encoded.rows[0][start : end + 1])
        assert g.question.answer.strip() in text.strip() or text.strip() in g.question.answer
    assert found >= 30
    batch = collate_reader([encode_group(tokenizer, g, 256) for g in groups[:2]], 1)
    assert batch["inputs"].shape[0] == 16 and batch["unit_mask"].any(dim=1).all()


def test_a_unit_longer_than_the_context_is_cut_and_loses_a_span_beyond_it(tokenizer) -> None:
    unit = "word " * 400 + "the answer is 42 tokens"
    start = unit.index("42")
    ids, (first, end), span = encode_pair(tokenizer, "What value?", unit, 64, (start, start + 2))
    assert len(ids) <= 64 and end <= len(ids) - 1 and span == (-1, -1)
    ids, _, span = encode_pair(tokenizer, "What value?", "It is 42 tokens.", 64, (6, 8))
    assert span[0] >= 0


def test_split_groups_validates_on_one_paper_by_every_tenth_group(xlstm_units, tokenizer) -> None:
    groups = build_groups(xlstm_units, seed=0)
    train, val = split_groups(tokenizer, groups, 128)
    assert len(val) == len(groups[::10]) and len(train) + len(val) == len(groups)


def test_units_of_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("The gate is a unit.\nIt has 3 layers. Nothing else.", encoding="utf-8")
    units = corpus_units([path])
    assert [u.text for u in units] == ["The gate is a unit.", "It has 3 layers.", "Nothing else."]
    assert {u.kind for u in units} == {"text"}
