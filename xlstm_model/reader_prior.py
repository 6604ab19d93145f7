"""The dense + lexical prior that a residual token reader is trained on top of.

At answer time the token reader's score is added to the answer path's base score (MiniLM cosine
plus question-word overlap, `app.evidence.score_candidates`). The corpus questions are built
from their unit's own words, so that base alone already puts the answering unit first in 0.91 of
the held-out groups (session 15, without the echo negative); a reader trained alone on them
spends its capacity relearning the base. Trained *residually* (`--residual`), the reader's score
for each unit is added to a learned prior of the same two signals, read off the token states it
is given, before the listwise loss: what the base already ranks right costs no loss, and the
reader learns what the base gets wrong.
"""

from __future__ import annotations

import torch
from torch import nn


def pair_prior(question, unit) -> tuple[float, float]:
    """(dense, lexical) of a question and a unit (`ingest.minilm.TokenStates` each): the cosine
    of their mean-pooled token states (MiniLM's sentence vectors) and the share of the
    question's word pieces ([CLS] and [SEP] aside) that the unit holds."""
    q, u = question.states.float().mean(0), unit.states.float().mean(0)
    dense = float(torch.nn.functional.cosine_similarity(q, u, dim=0))
    asked = set(question.ids[1:-1])
    lexical = len(asked & set(unit.ids[1:-1])) / len(asked) if asked else 0.0
    return dense, lexical


class Prior(nn.Module):
    """scores (N, G) + w_dense * dense + w_lexical * lexical, both weights learned."""

    def __init__(self, dense: float = 10.0, lexical: float = 5.0) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.tensor([dense, lexical]))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, G, 2) (dense, lexical) per pair -> (N, G) prior logits."""
        return features @ self.weights
