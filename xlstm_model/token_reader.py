"""The xLSTM token reader: does a unit answer the question? Read over MiniLM's token states.

The language model `make train` grows from scratch (1.5M parameters, ~4M tokens) has no reading
comprehension to carry from the corpus-built questions to real ones (README, issue 12: its reader
head stays inside the random band). This reader keeps the xLSTM as the reader and gives it
pretrained word features instead: it reads the frozen MiniLM's contextual token states of the
question, then of the unit (each encoded alone, so MiniLM never sees the pair; the xLSTM does
all the reading across them), with two flags per token, as DrQA's reader has (Chen et al., 2017,
arXiv 1704.00051): which text the token is from, and whether the other text has the same token.
An up-projection, mLSTM and sLSTM blocks (Beck et al., 2024, arXiv 2405.04517), and a linear
head on the state after the unit's last token give the pair's score (a logit).

`TokenReaderRun` bundles the trained reader with its encoder: `scores(question, units)`.
"""

from __future__ import annotations

import json
import pickle
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from xlstm_model.config import XLSTMConfig
from xlstm_model.errors import ModelError
from xlstm_model.mlstm import MLSTMBlock
from xlstm_model.reader_stage import best_span
from xlstm_model.reading import Reading, quoted_span
from xlstm_model.slstm import SLSTMBlock

WEIGHTS, CARD = "token_reader.pt", "token_reader.json"
FLAGS = 2  # per token: from the unit (1) or the question (0); the other text has this token


@dataclass
class TokenReaderConfig:
    """Flat, JSON round-trip: the reader's sizes and the encoder whose states it reads."""

    embedding_dim: int = 96  # xLSTM width D
    num_blocks: int = 2
    num_heads: int = 4
    slstm_at: list[int] = field(default_factory=lambda: [1])  # [mLSTM, sLSTM]
    feature_dim: int = 384  # the encoder's state width C (all-MiniLM-L6-v2)
    max_text_tokens: int = 96  # per text (question or unit), [CLS] and [SEP] included
    encoder: str = "all-MiniLM-L6-v2"

    def xlstm(self) -> XLSTMConfig:
        return XLSTMConfig(
            vocab_size=8,  # unused: the reader has no token embedding
            embedding_dim=self.embedding_dim,
            num_blocks=self.num_blocks,
            num_heads=self.num_heads,
            slstm_at=list(self.slstm_at),
            context_length=2 * self.max_text_tokens,
            mlstm_backend="parallel",
            kernels="torch",
        )


class TokenReader(nn.Module):
    def __init__(self, config: TokenReaderConfig) -> None:
        super().__init__()
        self.config = config
        xc = config.xlstm()
        self.inp = nn.Linear(config.feature_dim + FLAGS, config.embedding_dim)
        self.blocks = nn.ModuleList(
            SLSTMBlock(xc, i) if kind == "slstm" else MLSTMBlock(xc)
            for i, kind in enumerate(xc.block_types())
        )
        for block in self.blocks:
            block.reset_parameters()
        self.norm = nn.LayerNorm(config.embedding_dim)
        self.head = nn.Linear(config.embedding_dim, 1)
        # per token, from its xLSTM state and its own features: the answer span's start and
        # end logits (trained after the rest, whose states it reads)
        width = config.embedding_dim + config.feature_dim + FLAGS
        self.span_head = nn.Sequential(nn.Linear(width, 64), nn.GELU(), nn.Linear(64, 2))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, S, C + 2) right-padded pair features -> normalized states (B, S, D)."""
        h = self.inp(x)  # (B, S, D)
        for block in self.blocks:
            h, _ = block(h, None)
        return self.norm(h)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, S, C + 2), lengths (B,) -> scores (B,), read at each pair's last real position
        (padding comes after it, so it changes nothing)."""
        h = self.hidden(x)
        return self.head(h[torch.arange(h.size(0)), lengths - 1]).squeeze(-1)

    def read(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Scores (B,) and the span's start and end logits (B, S) at every position."""
        h = self.hidden(x)
        spans = self.span_head(torch.cat([h, x], dim=-1))  # (B, S, 2)
        scores = self.head(h[torch.arange(h.size(0)), lengths - 1]).squeeze(-1)
        return scores, spans[..., 0], spans[..., 1]


class TokenReaderEnsemble(nn.Module):
    """Token readers trained alike from different seeds, read as one: the mean of their score
    logits (which ranks as the mean of their listwise log-probabilities) and of their span
    logits. Averaging cancels the seed-to-seed variance of one small reader (README)."""

    def __init__(self, members: list[TokenReader]) -> None:
        super().__init__()
        if not members:
            raise ModelError("an ensemble needs at least one token reader")
        self.members = nn.ModuleList(members)
        self.config = members[0].config

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x, lengths) for m in self.members]).mean(0)

    def read(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The members' mean scores (B,) and span start and end logits (B, S)."""
        outs = [m.read(x, lengths) for m in self.members]
        return tuple(torch.stack(parts).mean(0) for parts in zip(*outs, strict=True))


def pair_features(question, unit) -> torch.Tensor:
    """(S, C + 2) features of question then unit (`ingest.minilm.TokenStates` each)."""
    q_ids, u_ids = set(question.ids[1:-1]), set(unit.ids[1:-1])  # without [CLS] / [SEP]
    q_flags = [[0.0, float(t in u_ids)] for t in question.ids]
    u_flags = [[1.0, float(t in q_ids)] for t in unit.ids]
    q = torch.cat([question.states.float(), torch.tensor(q_flags)], dim=1)
    u = torch.cat([unit.states.float(), torch.tensor(u_flags)], dim=1)
    return torch.cat([q, u])


def batch_pairs(features: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, S, C + 2) and the lengths (B,)."""
    lengths = torch.tensor([len(f) for f in features])
    x = torch.zeros(len(features), int(lengths.max()), features[0].shape[1])
    for row, f in enumerate(features):
        x[row, : len(f)] = f
    return x, lengths


@dataclass
class TokenReaderRun:
    """A trained token reader, its encoder (`ingest.minilm.MiniLMEmbeddings`) and its card
    (held-out accuracy, training figures). The token states of the last `cache_size` texts are
    kept: the retrievers side by side, and the next questions, read many of the same units."""

    model: TokenReader | TokenReaderEnsemble
    encoder: object
    card: dict
    cache_size: int = 1024
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def scores(self, question: str, units: list[str]) -> list[float]:
        """One score (a logit, higher answers better) per unit, in order."""
        return [r.score for r in self.read(question, units)]

    @torch.no_grad()
    def read(
        self, question: str, units: list[str], batch_size: int = 32, wants_number: bool = False
    ) -> list[Reading]:
        """Per unit (in order), its score and the span the reader points at, quoted from the
        unit's own characters (`xlstm_model.reading.Reading`). A span neither starts nor ends
        on a token the question has (the answer is what the unit adds); with `wants_number`
        ("how many ...", "what perplexity ..."), it starts on a number where the unit has one."""
        if not units:
            return []
        with self._lock:
            q, *us = self._states([question, *units])
            lo = len(q.ids) + 1  # a unit's first token, after the question and the unit's [CLS]
            out: list[Reading] = []
            for first in range(0, len(us), batch_size):
                chunk = us[first : first + batch_size]
                x, lengths = batch_pairs([pair_features(q, u) for u in chunk])
                scores, starts, ends = self.model.read(x, lengths)
                for row, u in enumerate(chunk):
                    hi = len(q.ids) + len(u.ids) - 1  # ... up to the unit's [SEP]
                    text, score = units[first + row], float(scores[row])
                    shared = x[row, lo:hi, -1] > 0.5  # the question has this token
                    span_logits = constrain_span_logits(
                        text, u, starts[row, lo:hi], ends[row, lo:hi], shared, wants_number
                    )
                    out.append(span_reading(text, u, score, *span_logits))
        return out

    def _states(self, texts: list[str]) -> list:
        """The texts' token states, encoding only those not in the cache."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            states = self.encoder.embed_tokens(missing, self.model.config.max_text_tokens)
            self._cache.update(zip(missing, states, strict=True))
        for text in texts:
            self._cache.move_to_end(text)
        found = [self._cache[t] for t in texts]
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return found


_BANNED = -1e4  # the logit of a token a span may not start (or end) on


def constrain_span_logits(unit: str, states, starts, ends, shared, wants_number: bool) -> tuple:
    """The unit tokens' start and end logits (T,), with the question's own tokens banned as a
    span's first or last token (and, with `wants_number`, every start that is not a number),
    unless that would ban every token."""
    if not len(starts) or shared.all():  # the unit only repeats the question: logits decide
        return starts, ends
    starts, ends = starts.masked_fill(shared, _BANNED), ends.masked_fill(shared, _BANNED)
    if wants_number:
        spans = states.offsets[1 : 1 + len(starts)]
        number = torch.tensor([any(c.isdigit() for c in unit[a:b]) for a, b in spans])
        if (number & ~shared).any():
            starts = starts.masked_fill(~number, _BANNED)
    return starts, ends


def span_reading(unit: str, states, score: float, starts, ends) -> Reading:
    """The best span of the unit's tokens (their start and end logits (T,)), as characters."""
    if not len(starts) or not states.offsets:
        return Reading(score, "", 0, 0)
    i, j = best_span(starts, ends)
    a, b = states.offsets[1 + i][0], states.offsets[1 + j][1]
    return quoted_span(unit, score, a, max(a, b))


def save_token_reader(model: TokenReader | TokenReaderEnsemble, card: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / WEIGHTS)
    members = len(model.members) if isinstance(model, TokenReaderEnsemble) else 1
    card = {"config": asdict(model.config), **card, "members": members}
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def has_token_reader(folder: Path) -> bool:
    return (folder / WEIGHTS).exists() and (folder / CARD).exists()


def load_token_reader(folder: Path, encoder) -> TokenReaderRun:
    """The token reader saved in `folder`, reading `encoder`'s states. ModelError when the
    files are damaged or do not fit its config (another size, another state width)."""
    try:
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
        config = TokenReaderConfig(**card["config"])
        members = int(card.get("members", 1))  # readers saved before ensembles: one
        model = (
            TokenReader(config)
            if members == 1
            else TokenReaderEnsemble([TokenReader(config) for _ in range(members)])
        )
        model.load_state_dict(torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, pickle.UnpicklingError) as e:
        msg = (
            f"the token reader in {folder} cannot be read ({type(e).__name__}); "
            "retrain it with `make train`"
        )
        raise ModelError(msg) from e
    return TokenReaderRun(model.eval().requires_grad_(False), encoder, card)
