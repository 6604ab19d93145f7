"""The trained reader at inference: does each unit answer the question, and which span does.

`read_units(run, question, units)` lays every (question, unit) pair out as the reader stage
trained it (``<|question|> q <|context|> unit <|answer|>``, `xlstm_model.reader_data`) and
returns, per unit, the reader head's answer score and the span it points at, cut from the unit's
own characters: the model chooses and cuts, it never writes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xlstm_model.checkpoint import LoadedRun
from xlstm_model.errors import ModelError
from xlstm_model.reader_data import encode_pair
from xlstm_model.reader_stage import best_span


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one unit: score (a logit; higher answers better) and the quoted
    span unit[start:end] ("" when the unit has no tokens in the context)."""

    score: float
    span: str
    start: int
    end: int


def has_reader(run: LoadedRun) -> bool:
    return getattr(run.model, "reader_head", None) is not None


@torch.no_grad()
def read_units(
    run: LoadedRun, question: str, units: list[str], batch_size: int = 16
) -> list[Reading]:
    """One `Reading` per unit (same order). Raises ModelError for a model without a reader."""
    if not has_reader(run):
        msg = "the model has no reader head; retrain it with `--qa reader` (make train)"
        raise ModelError(msg)
    if not units:
        return []
    tok, model = run.tokenizer, run.model
    max_len = run.config.context_length
    device = next(model.parameters()).device
    out: list[Reading] = []
    for first in range(0, len(units), batch_size):
        chunk = units[first : first + batch_size]
        pairs = [encode_pair(tok, question, u, max_len) for u in chunk]
        width = max(len(ids) for ids, _, _ in pairs)
        inputs = torch.full((len(pairs), width), tok.pad_id, dtype=torch.long)
        for row, (ids, _, _) in enumerate(pairs):
            inputs[row, : len(ids)] = torch.tensor(ids)
        scores, starts, ends = model.read(inputs.to(device))
        for row, (unit, (ids, (lo, hi), _)) in enumerate(zip(chunk, pairs, strict=True)):
            mask = torch.zeros(width, dtype=torch.bool)
            mask[lo:hi] = True
            s = starts[row].float().cpu().masked_fill(~mask, -1e4)
            e = ends[row].float().cpu().masked_fill(~mask, -1e4)
            out.append(_reading(tok, unit, float(scores[row, len(ids) - 1]), lo, hi, s, e))
    return out


def _reading(tok, unit: str, score: float, lo: int, hi: int, starts, ends) -> Reading:
    """The span's characters in `unit` from the token offsets of " " + unit."""
    if hi <= lo:
        return Reading(score, "", 0, 0)
    i, j = best_span(starts, ends)
    offsets = tok.hf.encode(f" {unit}", add_special_tokens=False).offsets
    a = max(0, offsets[i - lo][0] - 1)
    return quoted_span(unit, score, a, max(a, offsets[j - lo][1] - 1))


def quoted_span(unit: str, score: float, a: int, b: int) -> Reading:
    """The reading whose span is unit[a:b] widened to whole words (tokens may cut a word)."""
    while a < b and unit[a] == " ":
        a += 1
    while a > 0 and not unit[a - 1].isspace():
        a -= 1
    while b < len(unit) and not unit[b].isspace():
        b += 1
    return Reading(score, unit[a:b].strip(" ,;:."), a, b)
