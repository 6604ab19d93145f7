"""Model builders for the benchmarks: our xLSTM, the official `xlstm` package, and a GPT."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.transformer import GPT, GPTConfig


def xlstm_lm(vocab: int, dim: int, blocks: int, ctx: int, slstm_at=(), **overrides) -> nn.Module:
    """Our XLSTMLM; slstm_at=() is xLSTM[1:0] (mLSTM only)."""
    from xlstm_model.config import XLSTMConfig
    from xlstm_model.model import XLSTMLM

    config = XLSTMConfig(
        vocab_size=vocab,
        embedding_dim=dim,
        num_blocks=blocks,
        num_heads=4,
        slstm_at=list(slstm_at),
        context_length=ctx,
        **overrides,
    )
    return XLSTMLM(config)


def gpt_lm(vocab: int, dim: int, blocks: int, ctx: int) -> GPT:
    return GPT(
        GPTConfig(
            vocab_size=vocab, context_length=ctx, embedding_dim=dim, num_blocks=blocks, num_heads=4
        )
    )


def gpt_matching(params: int, vocab: int, blocks: int, ctx: int) -> GPT:
    """The GPT (4 heads, width a multiple of 16) whose parameter count is closest to `params`."""
    best = min(range(16, 2049, 16), key=lambda d: abs(_gpt_params(vocab, d, blocks) - params))
    return gpt_lm(vocab, best, blocks, ctx)


def _gpt_params(vocab: int, dim: int, blocks: int) -> int:
    hidden = 4 * dim
    per_block = 3 * dim * dim + dim * dim + 2 * dim * hidden + 2 * dim
    return vocab * dim + blocks * per_block + dim


class OfficialLM(nn.Module):
    """The official xLSTMBlockStack between an embedding and a linear head (same as ours)."""

    def __init__(self, vocab: int, dim: int, blocks: int, ctx: int) -> None:
        super().__init__()
        from xlstm import mLSTMBlockConfig, mLSTMLayerConfig, xLSTMBlockStack, xLSTMBlockStackConfig

        layer = mLSTMLayerConfig(conv1d_kernel_size=4, qkv_proj_blocksize=4, num_heads=4)
        config = xLSTMBlockStackConfig(
            mlstm_block=mLSTMBlockConfig(mlstm=layer),
            context_length=ctx,
            num_blocks=blocks,
            embedding_dim=dim,
            slstm_at=[],
        )
        self.embedding = nn.Embedding(vocab, dim)
        self.stack = xLSTMBlockStack(config)
        self.head = nn.Linear(dim, vocab, bias=False)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        logits = self.head(self.stack(self.embedding(idx)))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def state_bytes(state) -> int:
    """Bytes of every tensor in a (nested) recurrent state or KV cache."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, dict):
        return sum(state_bytes(v) for v in state.values())
    if isinstance(state, list | tuple):
        return sum(state_bytes(v) for v in state)
    if hasattr(state, "__dict__"):
        return sum(state_bytes(v) for v in vars(state).values())
    return 0
