"""The reader stage: the xLSTM learns to read a question and a unit together, and keeps its LM.

Each step draws `rank_groups` reader groups (`xlstm_model.reader_data`) and one batch of corpus
windows, and minimises

    L = CE(softmax over a group's answer scores, positive = 0)      (does the unit answer?)
      + SPAN_WEIGHT * (CE(start) + CE(end))  over the positive's unit tokens (where is the answer?)
      + LM_MIX * next-token CE on the corpus windows                 (stay a language model)

The answer score is the reader head on the final state (`XLSTMLM.read`). Validation reports the
share of held-out groups whose answering unit scores first (`reader_acc`), the same with the
model's UPR score log p(question | unit) (`upr_acc`, for comparison), the share of spans found
exactly (`span_exact`), and the LM's validation perplexity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xlstm_model.data import BlockSampler, TokenSplit
from xlstm_model.errors import ModelError
from xlstm_model.loop import Stage, Trainer, _lm_evaluator
from xlstm_model.qa_data import QASampler
from xlstm_model.reader_data import EncodedGroup, collate_reader

SPAN_WEIGHT = 0.5
LM_MIX = 1.0  # weight of the next-token loss in the reader stage


class ReaderSampler:
    """Reader groups and corpus windows, restartable from `state_dict()`."""

    def __init__(self, groups: QASampler, windows: BlockSampler) -> None:
        self.groups, self.windows = groups, windows

    def next_batch(self) -> dict:
        return {**self.groups.next_batch(), "lm": self.windows.next_batch()}

    def state_dict(self) -> dict:
        return {"groups": self.groups.state_dict(), "windows": self.windows.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.groups.load_state_dict(state["groups"])
        self.windows.load_state_dict(state["windows"])


def group_logits(model, batch: dict, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(answer scores (G, n), start logits (G, T), end logits (G, T)) of the positives, the span
    logits masked to the unit's tokens."""
    inputs, n = batch["inputs"].to(device), int(batch["group_size"])
    scores, starts, ends = model.read(inputs)  # (R, T) each
    rows = torch.arange(inputs.shape[0], device=device)
    answer = scores[rows, batch["answer_pos"].to(device)].float().view(-1, n)  # (G, n)
    mask = batch["unit_mask"].to(device)[::n]  # (G, T)
    starts = starts[::n].float().masked_fill(~mask, -1e4)
    ends = ends[::n].float().masked_fill(~mask, -1e4)
    return answer, starts, ends


def reader_loss(model, batch: dict, device) -> tuple[torch.Tensor, dict]:
    """The reader stage's loss (see the module doc) and its parts."""
    answer, starts, ends = group_logits(model, batch, device)
    target = torch.zeros(answer.shape[0], dtype=torch.long, device=device)
    choose = F.cross_entropy(answer, target)
    s, e = batch["span_start"].to(device), batch["span_end"].to(device)
    has = s >= 0
    span = torch.zeros((), device=device)
    if has.any():
        span = F.cross_entropy(starts[has], s[has]) + F.cross_entropy(ends[has], e[has])
    inputs, targets = batch["lm"]
    _, lm = model(inputs.to(device), targets.to(device))
    loss = choose + SPAN_WEIGHT * span + LM_MIX * lm
    return loss, {"choose": choose.item(), "span": span.item(), "lm": lm.item()}


def best_span(starts: torch.Tensor, ends: torch.Tensor, max_tokens: int = 24) -> tuple[int, int]:
    """The (start, end) positions, end >= start and at most `max_tokens` apart, whose logits
    sum highest; starts/ends (T,) masked to the unit's tokens."""
    pair = starts[:, None] + ends[None, :]  # (T, T)
    T = pair.shape[0]
    i = torch.arange(T)
    allowed = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < max_tokens)
    flat = int(pair.masked_fill(~allowed.to(pair.device), -1e9).argmax())
    return flat // T, flat % T


@torch.no_grad()
def evaluate_reader(model, groups: list[EncodedGroup], pad_id: int, device, upr=True) -> dict:
    """reader_val_loss, reader_acc (head), upr_acc (log p(question | unit)) and span_exact over
    `groups`, per form too (reader_acc_<form>)."""
    model.eval()
    losses, hits, spans, by_form = [], [], [], {}
    for i in range(0, len(groups), 4):
        chosen = groups[i : i + 4]
        batch = collate_reader(chosen, pad_id)
        answer, starts, ends = group_logits(model, batch, device)
        target = torch.zeros(answer.shape[0], dtype=torch.long, device=device)
        losses += F.cross_entropy(answer, target, reduction="none").tolist()
        for g, group in enumerate(chosen):
            hit = float(answer[g].argmax() == 0)
            hits.append(hit)
            by_form.setdefault(group.form, []).append(hit)
            if group.span[0] >= 0:
                spans.append(float(best_span(starts[g].cpu(), ends[g].cpu()) == group.span))
    out = {
        "reader_val_loss": sum(losses) / max(len(losses), 1),
        "reader_acc": sum(hits) / max(len(hits), 1),
        "span_exact": sum(spans) / max(len(spans), 1),
        "chance": 1 / len(groups[0].rows) if groups else 0.0,
        **{f"reader_acc_{f}": sum(v) / len(v) for f, v in sorted(by_form.items())},
    }
    if upr:
        out["upr_acc"] = upr_accuracy(model, groups, pad_id, device)
    return out


def upr_accuracy(model, groups: list[EncodedGroup], pad_id: int, device) -> float:
    """Share of groups whose positive has the highest mean log p(question | unit) (UPR)."""
    from xlstm_model.scoring import _batch_tensors, label_logprobs

    hits = []
    for group in groups:
        pairs = []
        for row, (first, end) in zip(group.rows, group.unit_ranges, strict=True):
            question = list(row[1 : first - 1])  # between <|question|> and <|context|>
            context = [row[first - 1], *row[first:end], row[0]]  # <|context|> unit <|question|>
            pairs.append((context, question))
        inputs, labels = _batch_tensors(pairs, pad_id)
        logits, _ = model(inputs.to(device))
        labels = labels.to(device)
        picked = label_logprobs(logits, labels) * (labels != -100)
        scores = picked.sum(1) / (labels != -100).sum(1).clamp(min=1)
        hits.append(float(scores.argmax() == 0))
    return sum(hits) / max(len(hits), 1)


def reader_stage(
    trainer: Trainer,
    data: tuple[list[EncodedGroup], list[EncodedGroup]],
    pad_id: int,
    lm_split: TokenSplit,
    context_length: int,
) -> Stage:
    """The QA stage as reader training; `qa_val_loss` (the best-model key) is the reader's
    held-out loss plus the LM's, so the best model neither forgets to read nor to write."""
    s, info = trainer.settings, trainer.info
    if info.enabled:
        msg = "the reader stage runs in one process; run without torchrun (or use --qa rank)"
        raise ModelError(msg)
    train, val = data
    val = val[: max(8, 2 * s.eval_blocks)]  # tiny: 8 groups, default: 96
    groups = QASampler(train, s.rank_groups, pad_id, s.seed, collate=collate_reader)
    windows = BlockSampler(lm_split.train, context_length, s.batch_size, s.seed + 1)
    lm_evaluate = _lm_evaluator(trainer, lm_split, context_length)

    def evaluate() -> dict:
        reading = evaluate_reader(trainer.model, val, pad_id, trainer.device)
        lm = lm_evaluate()
        return {"qa_val_loss": reading["reader_val_loss"] + lm["val_loss"], **reading, **lm}

    def step_loss(model, batch: dict, device) -> tuple[torch.Tensor, int]:
        loss, _ = reader_loss(model, batch, device)
        return loss, int(batch["inputs"].numel() + batch["lm"][0].numel())

    return Stage(ReaderSampler(groups, windows), evaluate, step_loss=step_loss)
