"""Ranking groups → token batches, and the listwise loss that trains the xLSTM as a re-ranker.

A group (see `rank_data`) becomes one (input ids, labels) example per passage, laid out exactly as
`xlstm_model.scoring.upr_scores` scores it: ``<|context|> {passage} <|question|> {question}`` with
labels on the question tokens only. The loss is the UPR score turned into a classifier:

    s_i = sum_t log p(q_t | passage_i, q_<t)            (one score per passage of the group)
    L   = CE(softmax_i s_i, positive = 0) + lm_weight * NLL(question | positive passage)

The first term (listwise softmax, as in Nogueira et al.'s and Zhuang et al.'s re-rankers) makes the
question likelier after its own sentence than after the others; the second keeps the model a
language model of questions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from xlstm_model.errors import ModelError
from xlstm_model.prompt import format_question_for_upr
from xlstm_model.qa_dataset import Example, pad_batch
from xlstm_model.scoring import UPR_PASSAGE_TOKENS, label_logprobs, upr_context_tokens
from xlstm_model.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

Group = list[Example]  # the positive passage's example first
MAX_VAL_GROUPS = 96
LM_WEIGHT = 0.5


@dataclass
class RankData:
    """Encoded train/validation groups; every group has `group_size` examples."""

    train: list[Group]
    val: list[Group]
    group_size: int


def encode_group(tokenizer: Tokenizer, group: dict, passage_tokens: int) -> Group:
    target = tokenizer.encode(format_question_for_upr(group["question"]))[:48]
    out = []
    for passage in group["passages"]:
        context = upr_context_tokens(tokenizer, passage, passage_tokens)
        sequence = context + target
        out.append((sequence[:-1], [-100] * (len(context) - 1) + target))
    return out


def build_rank_data(
    tokenizer: Tokenizer, texts: list[str], groups_per_batch: int, seed: int, val_fraction: float
) -> RankData | None:
    """Ranking groups from the training part of every document; None when there are too few."""
    from xlstm_model.rank_data import ranking_groups

    keep = 1 - val_fraction  # the validation tails stay unseen
    groups = ranking_groups([t[: int(len(t) * keep)] for t in texts], seed=seed)
    encoded = [encode_group(tokenizer, g, UPR_PASSAGE_TOKENS) for g in groups]
    n_val = min(MAX_VAL_GROUPS, max(1, int(len(encoded) * 0.05)))
    if len(encoded) - n_val < groups_per_batch:
        logger.warning("skipping the ranking stage: only %d ranking groups", len(encoded))
        return None
    return RankData(encoded[:-n_val], encoded[-n_val:], len(encoded[0]))


def collate_groups(groups: list[Group], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels) of shape (G * group_size, T_max), group by group."""
    return pad_batch([example for group in groups for example in group], pad_id)


def group_scores(logits: torch.Tensor, labels: torch.Tensor, group_size: int) -> torch.Tensor:
    """logits (B, T, V), labels (B, T) -> summed log p of each row's labelled tokens, (G, n)."""
    if labels.shape[0] % group_size:
        msg = f"a batch of {labels.shape[0]} rows is not whole groups of {group_size}"
        raise ModelError(msg)
    picked = label_logprobs(logits, labels)  # (B, T)
    sums = (picked * (labels != -100)).sum(dim=1)  # (B,)
    return sums.view(-1, group_size)  # (G, n)


def rank_loss(
    logits: torch.Tensor, labels: torch.Tensor, group_size: int, lm_weight: float = LM_WEIGHT
) -> torch.Tensor:
    """Listwise softmax loss (the positive is column 0) plus the positive rows' token NLL."""
    scores = group_scores(logits, labels, group_size)  # (G, n)
    target = torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
    listwise = F.cross_entropy(scores, target)
    positive_tokens = (labels[::group_size] != -100).sum().clamp(min=1)
    lm = -scores[:, 0].sum() / positive_tokens
    return listwise + lm_weight * lm


def make_loss_fn(group_size: int):
    def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return rank_loss(logits, labels, group_size)

    return loss_fn


@torch.no_grad()
def evaluate_ranking(model, groups: list[Group], pad_id: int, device, batch_groups: int = 4):
    """{"rank_val_loss": mean listwise loss, "rank_val_acc": share of groups whose positive
    scores highest} over `groups`."""
    model.eval()
    losses, hits = [], []
    for i in range(0, len(groups), batch_groups):
        chosen = groups[i : i + batch_groups]
        inputs, labels = collate_groups(chosen, pad_id)
        logits, _ = model(inputs.to(device))
        scores = group_scores(logits, labels.to(device), len(chosen[0]))
        target = torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
        losses.append(F.cross_entropy(scores, target, reduction="none"))
        hits.append(scores.argmax(dim=1) == 0)
    return {
        "rank_val_loss": float(torch.cat(losses).mean()),
        "rank_val_acc": float(torch.cat(hits).float().mean()),
    }
