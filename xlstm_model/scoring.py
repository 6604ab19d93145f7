"""Batched sequence scoring: mean log p(target | context), and UPR passage re-ranking scores.

UPR (Sachan et al., 2022, "Improving Passage Retrieval with Zero-Shot Question Generation") ranks a
passage by how likely the language model finds the question after it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xlstm_model.checkpoint import LoadedRun
from xlstm_model.errors import ModelError
from xlstm_model.prompt import CONTEXT, QUESTION, clean_text, format_question_for_upr

UPR_PASSAGE_TOKENS = 96
LM_WEIGHT = 0.5  # weight of the positive passage's question NLL in `rank_loss`


def _batch_tensors(pairs: list[tuple[list[int], list[int]]], pad_id: int):
    """Right-padded inputs and labels (-100 except on target tokens): (B, T_max) each."""
    width = max(len(c) + len(t) - 1 for c, t in pairs)
    inputs = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    labels = torch.full((len(pairs), width), -100, dtype=torch.long)
    for row, (ctx, tgt) in enumerate(pairs):
        seq = ctx + tgt
        inputs[row, : len(seq) - 1] = torch.tensor(seq[:-1])
        labels[row, len(ctx) - 1 : len(seq) - 1] = torch.tensor(tgt)
    return inputs, labels


def label_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """logits (B, T, V), labels (B, T) -> log p of each label, (B, T); positions labelled
    -100 hold the log p of token 0 and are for the caller to mask."""
    logp = F.log_softmax(logits.float(), dim=-1)
    return logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def token_logprobs(
    run: LoadedRun, pairs: list[tuple[list[int], list[int]]], batch_size: int = 16
) -> list[torch.Tensor]:
    """log p(target token | context, earlier target tokens) for every target token of every
    token-id pair: one (len(target),) tensor per pair.

    Pairs are sorted by length and scored a padded batch at a time (one forward per batch).
    """
    if any(not tgt for _, tgt in pairs):
        msg = "cannot score an empty target; pass at least one target token"
        raise ModelError(msg)
    pairs = [(ctx or [run.tokenizer.eot_id], tgt) for ctx, tgt in pairs]
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    device = next(run.model.parameters()).device
    out: list[torch.Tensor] = [torch.empty(0)] * len(pairs)
    for start in range(0, len(order), max(1, batch_size)):
        chosen = order[start : start + batch_size]
        inputs, labels = _batch_tensors([pairs[i] for i in chosen], run.tokenizer.pad_id)
        inputs, labels = inputs.to(device), labels.to(device)
        logits, _ = run.model(inputs)  # (B, T, V)
        picked = label_logprobs(logits, labels)  # (B, T)
        for row, i in enumerate(chosen):
            out[i] = picked[row][labels[row] != -100].cpu()  # (len(target),)
    return out


def score_token_pairs(
    run: LoadedRun, pairs: list[tuple[list[int], list[int]]], batch_size: int = 16
) -> list[float]:
    """Mean log-probability of every target given its context, for token-id pairs."""
    return [float(t.mean()) for t in token_logprobs(run, pairs, batch_size)]


def sequence_logprob(
    run: LoadedRun,
    contexts: list[str],
    targets: list[str],
    batch_size: int = 16,
    max_context_tokens: int | None = None,
) -> list[float]:
    """Mean log p(target tokens | context tokens) per target token, one float per pair.

    Contexts longer than `max_context_tokens` keep their end (the tokens next to the target).
    """
    if len(contexts) != len(targets):
        msg = f"got {len(contexts)} contexts but {len(targets)} targets; pass one per context"
        raise ModelError(msg)
    if not contexts:
        return []
    tok = run.tokenizer
    ctx_ids, tgt_ids = tok.encode_batch(list(contexts)), tok.encode_batch(list(targets))
    if max_context_tokens:
        ctx_ids = [ids[-max_context_tokens:] for ids in ctx_ids]
    return score_token_pairs(run, list(zip(ctx_ids, tgt_ids, strict=True)), batch_size)


def upr_context_tokens(tok, passage: str, max_tokens: int = UPR_PASSAGE_TOKENS) -> list[int]:
    """Token ids of `format_passage_for_upr(passage)`, the passage cut to its last max_tokens."""
    body = tok.encode(f" {clean_text(passage)} ")[-max_tokens:]
    return [tok.token_id(CONTEXT), *body, tok.token_id(QUESTION)]


def upr_context_ids(
    run: LoadedRun, passage: str, max_tokens: int = UPR_PASSAGE_TOKENS
) -> list[int]:
    """`upr_context_tokens` with the run's tokenizer."""
    return upr_context_tokens(run.tokenizer, passage, max_tokens)


def upr_scores(
    run: LoadedRun,
    question: str,
    passages: list[str],
    batch_size: int = 16,
    max_passage_tokens: int = UPR_PASSAGE_TOKENS,
) -> list[float]:
    """Mean log p(question | passage) per question token, one per passage (higher = better)."""
    if not passages:
        return []
    return score_token_pairs(
        run, _upr_pairs(run, question, passages, max_passage_tokens), batch_size
    )


def upr_pmi_scores(
    run: LoadedRun,
    question: str,
    passages: list[str],
    batch_size: int = 16,
    max_passage_tokens: int = UPR_PASSAGE_TOKENS,
) -> list[float]:
    """UPR as pointwise mutual information: per question token,
    log p(q_t | passage, q_<t) - log p(q_t | no passage, q_<t), summed where positive.

    Only the tokens a passage makes likelier count, so a question's generic words (the
    wh-opening, frequent words) add nothing, and neither does a passage lowering them.
    """
    if not passages:
        return []
    pairs = _upr_pairs(run, question, passages, max_passage_tokens)
    no_passage = (no_passage_ids(run.tokenizer), pairs[0][1])
    *with_passage, without = token_logprobs(run, [*pairs, no_passage], batch_size)
    return [float((lp - without).clamp(min=0).sum()) for lp in with_passage]


def no_passage_ids(tok) -> list[int]:
    """The UPR scoring context with an empty passage: the baseline of the PMI scores."""
    return [tok.token_id(CONTEXT), tok.token_id(QUESTION)]


def _upr_pairs(
    run: LoadedRun, question: str, passages: list[str], max_passage_tokens: int
) -> list[tuple[list[int], list[int]]]:
    """(passage context ids, question ids) per passage, as UPR scores them."""
    target = run.tokenizer.encode(format_question_for_upr(question))
    return [(upr_context_ids(run, p, max_passage_tokens), target) for p in passages]


# The listwise ranking loss of the re-ranker training (`xlstm_model.qa_data` builds its groups):
#   s_i = sum_t log p(q_t | passage_i, q_<t)    (one score per passage of a group)
#   L   = CE(softmax_i s_i, positive = 0) + LM_WEIGHT * NLL(question | positive passage)
# The first term (listwise softmax, as in Nogueira et al.'s and Zhuang et al.'s re-rankers) makes
# the question likelier after its own sentence than after the others; the second keeps the model a
# language model of questions.


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
