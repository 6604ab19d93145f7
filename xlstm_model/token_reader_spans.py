"""The token reader's answer span: targets, the span head's own passes, exact-span accuracy.

Split from `token_reader_train` (the scorer's training): the span head points at the answer's
first and last token inside the answering unit (`TokenReader.read`'s start and end logits);
`fit_spans` trains it alone on the trained reader's frozen states after `fit`.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from xlstm_model.reader_data import ReaderGroup
from xlstm_model.reader_stage import best_span
from xlstm_model.token_reader import TokenReader, TokenReaderEnsemble, batch_pairs, pair_features


def span_target(unit, start: int, end: int) -> tuple[int, int] | None:
    """(first, last) index of the unit's tokens (`TokenStates`) covering characters start..end;
    None when the span was cut off with the unit's end."""
    inside = [k for k, (a, b) in enumerate(unit.offsets) if b > a and a < end and b > start]
    return (inside[0], inside[-1]) if inside else None


@torch.no_grad()
def span_examples(model: TokenReader, groups: list[ReaderGroup], states: dict) -> list[tuple]:
    """(the span head's input per unit token (T, D + C + 2): the trained reader's state and the
    token's features; start; end) per answering unit."""
    out = []
    for g in groups:
        q, u = states[g.question.text], states[g.texts[0]]
        target = span_target(u, g.question.start, g.question.end)
        if target is not None:
            x = batch_pairs([pair_features(q, u)])[0]  # (1, S, C + 2)
            h = torch.cat([model.hidden(x), x], dim=-1)[0]  # (S, D + C + 2)
            out.append((h[len(q.ids) : len(q.ids) + len(u.ids)], *target))
    return out


def fit_spans(model: TokenReader, groups, states: dict, epochs: int = 4, seed: int = 0) -> dict:
    """Trains the span head alone on the trained reader's states of the answering units (so
    the scores stay exactly what `fit` trained); cross-entropy of the span's start and end."""
    examples = span_examples(model, groups, states)
    opt = torch.optim.AdamW(model.span_head.parameters(), lr=3e-3)
    rng, losses = random.Random(seed), []
    for _ in range(epochs):
        rng.shuffle(examples)
        for first in range(0, len(examples), 32):
            loss = torch.stack([_span_loss(model, *e) for e in examples[first : first + 32]])
            opt.zero_grad()
            loss.mean().backward()
            opt.step()
            losses.append(loss.mean().item())
    return {"span_examples": len(examples), "span_loss": mean_or_none(losses[-20:])}


def _span_loss(model: TokenReader, h: torch.Tensor, start: int, end: int) -> torch.Tensor:
    logits = model.span_head(h)  # (T, 2)
    return span_ce(logits[:, 0], logits[:, 1], start, end)


def span_ce(starts: torch.Tensor, ends: torch.Tensor, start: int, end: int) -> torch.Tensor:
    """Cross-entropy of the start logits (T,) against `start` plus the end's against `end`."""
    return F.cross_entropy(starts, torch.tensor(start)) + F.cross_entropy(ends, torch.tensor(end))


@torch.no_grad()
def span_exact(
    model: TokenReader | TokenReaderEnsemble, groups: list[ReaderGroup], states: dict
) -> float | None:
    """Share of answering units whose best span is exactly the question's answer span."""
    hits = []
    for g in groups:
        q, u = states[g.question.text], states[g.texts[0]]
        target = span_target(u, g.question.start, g.question.end)
        if target is not None:
            _, starts, ends = model.read(*batch_pairs([pair_features(q, u)]))
            lo, hi = len(q.ids) + 1, len(q.ids) + len(u.ids) - 1  # the unit, no [CLS] / [SEP]
            best = best_span(starts[0, lo:hi], ends[0, lo:hi])
            hits.append(best == (target[0] - 1, target[1] - 1))
    return sum(hits) / len(hits) if hits else None


def mean_or_none(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
