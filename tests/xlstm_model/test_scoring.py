from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from xlstm_model.errors import ModelError
from xlstm_model.prompt import format_passage_for_upr, format_question_for_upr
from xlstm_model.scoring import (
    sequence_logprob,
    token_logprobs,
    upr_context_ids,
    upr_pmi_scores,
    upr_scores,
)


def _reference(run, context: str, target: str) -> float:
    """One unpadded forward per pair."""
    ctx, tgt = run.tokenizer.encode(context), run.tokenizer.encode(target)
    logits, _ = run.model(torch.tensor([ctx + tgt]))
    logp = F.log_softmax(logits[0, len(ctx) - 1 : -1].float(), dim=-1)
    return logp.gather(-1, torch.tensor(tgt)[:, None]).mean().item()


CONTEXTS = ["The model learns", "Gates", "Memory cells for language modelling tasks keep a state"]
TARGETS = [" long short term memory", " with exponential gating", " size"]


def test_batched_scores_equal_one_forward_per_pair(tiny_run) -> None:
    scores = sequence_logprob(tiny_run, CONTEXTS, TARGETS, batch_size=16)
    expected = [_reference(tiny_run, c, t) for c, t in zip(CONTEXTS, TARGETS, strict=True)]
    assert scores == pytest.approx(expected, abs=1e-4)
    assert sequence_logprob(tiny_run, CONTEXTS, TARGETS, batch_size=1) == pytest.approx(
        scores, abs=1e-4
    )
    assert all(s < 0 for s in scores)


def test_long_contexts_keep_their_end(tiny_run) -> None:
    long = "Words words words. " * 50 + "The model learns"
    cut = sequence_logprob(tiny_run, [long], [" memory"], max_context_tokens=4)
    tail = tiny_run.tokenizer.decode(tiny_run.tokenizer.encode(long)[-4:])
    assert cut == pytest.approx(sequence_logprob(tiny_run, [tail], [" memory"]), abs=1e-4)


def test_upr_scores_are_question_logprobs_after_each_passage(tiny_run) -> None:
    passages = ["The model learns gates.", "Memory cells keep a state " * 40]
    question = "What does the model learn?"
    scores = upr_scores(tiny_run, question, passages, max_passage_tokens=96)
    contexts = [format_passage_for_upr(p) for p in passages[:1]]
    expected = sequence_logprob(tiny_run, contexts, [format_question_for_upr(question)])
    assert len(scores) == 2 and scores[0] == pytest.approx(expected[0], abs=1e-4)
    assert upr_scores(tiny_run, question, []) == []


def test_bad_scoring_input_is_a_model_error(tiny_run) -> None:
    with pytest.raises(ModelError, match="2 contexts but 1 targets"):
        sequence_logprob(tiny_run, ["a", "b"], ["c"])
    with pytest.raises(ModelError, match="empty target"):
        sequence_logprob(tiny_run, ["a"], [""])
    assert sequence_logprob(tiny_run, [], []) == []


def test_upr_pmi_counts_only_the_tokens_a_passage_makes_likelier(tiny_run) -> None:
    question, passages = "What memory does the model keep?", ["Memory cells keep a state.", "Gates"]
    scores = upr_pmi_scores(tiny_run, question, passages)
    tok = tiny_run.tokenizer
    target = tok.encode(format_question_for_upr(question))
    empty = [tok.token_id("<|context|>"), tok.token_id("<|question|>")]
    (without,) = token_logprobs(tiny_run, [(empty, target)])
    for passage, score in zip(passages, scores, strict=True):
        (given,) = token_logprobs(tiny_run, [(upr_context_ids(tiny_run, passage), target)])
        assert score == pytest.approx(float((given - without).clamp(min=0).sum()), abs=1e-4)
        assert score >= 0
    assert upr_pmi_scores(tiny_run, question, []) == []
