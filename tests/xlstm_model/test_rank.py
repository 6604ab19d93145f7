"""The re-ranker's training data and loss: question-shaped groups, UPR-identical scores."""

from __future__ import annotations

import copy

import pytest
import torch

from xlstm_model.errors import ModelError
from xlstm_model.qa_data import (
    asked_words,
    collate_groups,
    content_words,
    encode_group,
    evaluate_ranking,
    is_prose,
    ranking_groups,
)
from xlstm_model.scoring import UPR_PASSAGE_TOKENS, group_scores, rank_loss, upr_scores

PAPER = " ".join(
    f"Sentence {i} says the mLSTM variant {i % 7} uses matrix memory with covariance rule {i}."
    if i % 3
    else f"Here the sLSTM block number {i} mixes its scalar memory through recurrent heads."
    for i in range(60)
)


def test_groups_hold_a_positive_and_negatives_that_miss_a_question_word() -> None:
    groups = ranking_groups([PAPER], negatives=5, seed=3)
    assert groups and all(len(g["passages"]) == 6 for g in groups)
    for g in groups:
        asked = asked_words(g["question"])
        for negative in g["passages"][1:]:
            assert not asked <= {w.lower() for w in content_words(negative)}
    shaped = [g for g in groups if g["question"].endswith("?")]
    assert shaped, "most queries are question-shaped"
    for g in shaped:  # made from the positive's own words
        words = {w.lower() for w in content_words(g["passages"][0])}
        asked = asked_words(g["question"])
        assert len(asked - words) <= 1  # one word may come from a neighbouring sentence


def test_groups_are_deterministic_and_skip_short_documents() -> None:
    assert ranking_groups([PAPER], seed=1) == ranking_groups([PAPER], seed=1)
    assert ranking_groups(["One short sentence here. Another short one there."]) == []


def test_reference_entries_are_not_prose() -> None:
    assert not is_prose("Pengcheng He, Xiaodong Liu, Jianfeng Gao, and Weizhu Chen.")
    assert not is_prose("Attention is all you need. In Advances in NeurIPS, 2017.")
    assert is_prose("The mLSTM is fully parallelizable with a matrix memory and a covariance rule.")


def test_training_scores_equal_the_apps_upr_scores(tiny_run) -> None:
    """The loss ranks passages by exactly the quantity `upr_scores` returns at answer time."""
    group = {
        "question": "What memory does the mLSTM use?",
        "passages": [
            "The mLSTM uses a matrix memory.",
            "Gates are exponential.",
            "The state has a constant size.",
        ],
    }
    encoded = encode_group(tiny_run.tokenizer, group, UPR_PASSAGE_TOKENS)
    inputs, labels = collate_groups([encoded], tiny_run.tokenizer.pad_id)
    with torch.no_grad():
        logits, _ = tiny_run.model(inputs)
    sums = group_scores(logits, labels, 3)[0]
    per_token = sums / (labels[0] != -100).sum()
    expected = upr_scores(tiny_run, group["question"], group["passages"])
    assert per_token.tolist() == pytest.approx(expected, abs=1e-4)


def test_group_scores_need_whole_groups() -> None:
    with pytest.raises(ModelError, match="not whole groups"):
        group_scores(torch.zeros(5, 3, 8), torch.zeros(5, 3, dtype=torch.long), 2)


def test_the_listwise_loss_learns_to_rank_the_positive_first(tiny_run) -> None:
    model, tok = copy.deepcopy(tiny_run.model), tiny_run.tokenizer  # the fixture is shared
    groups = [
        encode_group(tok, g, UPR_PASSAGE_TOKENS)
        for g in ranking_groups([PAPER], negatives=3, seed=0)[:4]
    ]
    inputs, labels = collate_groups(groups, tok.pad_id)
    before = evaluate_ranking(model, groups, tok.pad_id, "cpu")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        logits, _ = model(inputs)
        loss = rank_loss(logits, labels, 4)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    after = evaluate_ranking(model, groups, tok.pad_id, "cpu")
    assert after["rank_val_loss"] < before["rank_val_loss"]
    assert after["rank_val_acc"] == 1.0
