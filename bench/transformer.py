"""A GPT-style Transformer baseline (pre-LN, RoPE, causal SDPA, KV cache) for the benchmarks.

It has the language-model interface of `XLSTMLM`: `forward(idx, targets=None) -> (logits, loss)`,
`init_state`, `prefill(idx, state=None) -> (last_logits, state)`, `step(idx, state)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GPTConfig:
    vocab_size: int = 4096
    context_length: int = 256  # training length; RoPE lets generation run past it
    embedding_dim: int = 256
    num_blocks: int = 4
    num_heads: int = 4
    ffn_factor: float = 4.0  # hidden width of the MLP relative to embedding_dim
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GPTConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _rope(x: torch.Tensor, offset: int) -> torch.Tensor:
    """Rotary position embedding of x: (B, NH, S, DH), positions offset..offset+S-1."""
    _, _, S, DH = x.shape
    inv_freq = 1.0 / (10000 ** (torch.arange(0, DH, 2, device=x.device, dtype=torch.float32) / DH))
    pos = torch.arange(offset, offset + S, device=x.device, dtype=torch.float32)
    angles = torch.outer(pos, inv_freq)  # (S, DH/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class KVCache:
    """Per-layer key/value buffers (B, NH, capacity, DH) that double when full."""

    def __init__(self, num_blocks: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * num_blocks
        self.values: list[torch.Tensor | None] = [None] * num_blocks
        self.length = 0

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Stores k, v: (B, NH, S, DH) after the cached ones; returns all keys and values so far."""
        start, end = self.length, self.length + k.shape[2]
        buf_k, buf_v = self.keys[layer], self.values[layer]
        if buf_k is None or buf_k.shape[2] < end:
            capacity = max(end, 2 * (0 if buf_k is None else buf_k.shape[2]), 64)
            new_k = k.new_zeros(*k.shape[:2], capacity, k.shape[3])
            new_v = torch.zeros_like(new_k)
            if buf_k is not None:
                new_k[:, :, :start], new_v[:, :, :start] = buf_k[:, :, :start], buf_v[:, :, :start]
            buf_k, buf_v = self.keys[layer], self.values[layer] = new_k, new_v
        buf_k[:, :, start:end], buf_v[:, :, start:end] = k, v
        return buf_k[:, :, :end], buf_v[:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.embedding_dim, 3 * config.embedding_dim, bias=False)
        self.proj = nn.Linear(config.embedding_dim, config.embedding_dim, bias=False)
        self.dropout = config.dropout

    def forward(
        self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> torch.Tensor:
        B, S, D = x.shape
        q, k, v = self.qkv(x).view(B, S, 3, self.num_heads, D // self.num_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, NH, S, DH)
        offset = cache.length if cache is not None else 0
        q, k = _rope(q, offset), _rope(k, offset)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        causal = offset == 0  # a continuation of S=1 tokens sees the whole cache
        if not causal and S > 1:
            msg = "a KV-cache continuation takes one token at a time"
            raise ValueError(msg)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal and S > 1, dropout_p=drop)
        return self.proj(y.transpose(1, 2).reshape(B, S, D))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        hidden = int(config.ffn_factor * config.embedding_dim)
        self.ln_attn = nn.LayerNorm(config.embedding_dim, bias=False)
        self.attn = CausalSelfAttention(config)
        self.ln_mlp = nn.LayerNorm(config.embedding_dim, bias=False)
        self.mlp = nn.Sequential(
            nn.Linear(config.embedding_dim, hidden, bias=False),
            nn.GELU(),
            nn.Linear(hidden, config.embedding_dim, bias=False),
        )

    def forward(
        self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> torch.Tensor:
        x = x + self.attn(self.ln_attn(x), cache, layer)
        return x + self.mlp(self.ln_mlp(x))


class GPT(nn.Module):
    """Token embedding → pre-LN Transformer blocks → LayerNorm → tied LM head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_blocks))
        self.ln_out = nn.LayerNorm(config.embedding_dim, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 2:
                scale = (
                    1 / math.sqrt(2 * self.config.num_blocks) if name.endswith("proj.weight") else 1
                )
                nn.init.normal_(p, mean=0.0, std=std * scale)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _run(self, idx: torch.Tensor, cache: KVCache | None) -> torch.Tensor:
        x = self.embedding(idx)  # (B, S, D)
        for layer, block in enumerate(self.blocks):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += idx.shape[1]
        return F.linear(self.ln_out(x), self.embedding.weight)  # (B, S, V)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self._run(idx, None)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-100)
        return logits, loss

    def init_state(self, batch_size: int, device: torch.device | str = "cpu") -> KVCache:
        return KVCache(self.config.num_blocks)

    @torch.no_grad()
    def prefill(self, idx: torch.Tensor, state: KVCache | None = None):
        """Runs the prompt idx: (B, S); returns (last logits (B, V), cache)."""
        if state is not None and state.length > 0:
            logits = None
            for t in range(idx.shape[1]):
                logits, state = self.step(idx[:, t], state)
            return logits, state
        state = KVCache(self.config.num_blocks)
        return self._run(idx, state)[:, -1], state

    @torch.no_grad()
    def step(self, idx: torch.Tensor, state: KVCache):
        """One token per sequence, idx: (B,) or (B, 1); returns (logits (B, V), cache)."""
        return self._run(idx.view(-1, 1), state)[:, -1], state
