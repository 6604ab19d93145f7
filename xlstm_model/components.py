"""Building blocks shared by the sLSTM and mLSTM blocks: norms, causal conv, block-diagonal
linear, gated MLP and the initialisations of the official xlstm package."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def small_init_(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """ "Transformers without Tears" init (Nguyen & Salazar, 2019): N(0, sqrt(2 / (5 dim)))."""
    return nn.init.normal_(weight, mean=0.0, std=math.sqrt(2 / (5 * dim)))


def wang_init_(weight: torch.Tensor, dim: int, num_blocks: int) -> torch.Tensor:
    """Output-projection init of GPT-NeoX (Wang): N(0, 2 / num_blocks / sqrt(dim))."""
    return nn.init.normal_(weight, mean=0.0, std=2 / num_blocks / math.sqrt(dim))


class MultiHeadLayerNorm(nn.Module):
    """Head-wise LayerNorm (a GroupNorm with one group per head), weight only."""

    def __init__(self, num_heads: int, head_dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_heads, self.head_dim, self.eps = num_heads, head_dim, eps
        self.weight = nn.Parameter(torch.ones(num_heads * head_dim))

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., NH, DH) -> normalized per head, flattened to (..., NH*DH)."""
        x = F.layer_norm(x, (self.head_dim,), eps=self.eps)  # (..., NH, DH)
        return x.flatten(-2) * self.weight  # (..., NH*DH)


class CausalConv1d(nn.Module):
    """Depthwise causal convolution over time; its state is the last kernel_size-1 inputs.

    kernel_size 0 is the identity. Computed as a sum of shifted products, which on CPU runs
    (with its backward) faster than the grouped nn.Conv1d.
    """

    def __init__(self, dim: int, kernel_size: int) -> None:
        super().__init__()
        self.dim, self.kernel_size = dim, kernel_size
        self.weight = nn.Parameter(torch.empty(dim, kernel_size))  # weight[:, -1] hits x_t
        self.bias = nn.Parameter(torch.empty(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(max(self.kernel_size, 1))  # nn.Conv1d's default for groups=dim
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> torch.Tensor:
        return torch.zeros(B, max(self.kernel_size - 1, 0), self.dim, device=device, dtype=dtype)

    def forward(
        self, x: torch.Tensor, conv_state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, S, D), conv_state (B, K-1, D) or None (zeros) -> (y (B, S, D), new conv_state)."""
        B, S, _ = x.shape
        if self.kernel_size == 0:
            return x, x[:, :0]
        if conv_state is None:
            conv_state = self.empty_state(B, x.device, x.dtype)
        x_padded = torch.cat([conv_state, x], dim=1)  # (B, K-1+S, D)
        y = torch.addcmul(self.bias, x_padded[:, :S], self.weight[:, 0])  # (B, S, D)
        for shift in range(1, self.kernel_size):
            y = torch.addcmul(y, x_padded[:, shift : shift + S], self.weight[:, shift])
        return y, x_padded[:, x_padded.shape[1] - (self.kernel_size - 1) :]


class LinearHeadwise(nn.Module):
    """Block-diagonal linear map: the input splits into NH blocks, each with its own matrix.

    weight (NH, out_per_head, in_per_head) has the layout of the official LinearHeadwiseExpand.
    """

    def __init__(self, in_features: int, num_heads: int, out_features: int | None = None) -> None:
        super().__init__()
        out_features = out_features or in_features
        if in_features % num_heads or out_features % num_heads:
            msg = f"features {in_features}->{out_features} do not split into {num_heads} blocks"
            raise ValueError(msg)
        self.num_heads = num_heads
        self.weight = nn.Parameter(
            torch.empty(num_heads, out_features // num_heads, in_features // num_heads)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        small_init_(self.weight, dim=self.weight.shape[-1])

    def forward_heads(self, x: torch.Tensor) -> torch.Tensor:
        """x (NH, N, in_per_head) -> (NH, N, out_per_head): one batched matmul over heads."""
        return torch.bmm(x, self.weight.transpose(1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., in_features) -> (..., out_features)."""
        lead = x.shape[:-1]
        x = x.reshape(-1, self.num_heads, x.shape[-1] // self.num_heads)  # (N, NH, in/NH)
        y = self.forward_heads(x.transpose(0, 1))  # (NH, N, out/NH)
        return y.transpose(0, 1).reshape(*lead, -1)  # (..., out_features)


class GatedFeedForward(nn.Module):
    """Gated MLP of the sLSTM block: proj_down(gelu(gate) * up)."""

    def __init__(self, dim: int, hidden_dim: int, num_blocks: int, bias: bool, dropout: float):
        super().__init__()
        self.dim, self.hidden_dim, self.num_blocks = dim, hidden_dim, num_blocks
        self.proj_up = nn.Linear(dim, 2 * hidden_dim, bias=bias)
        self.proj_down = nn.Linear(hidden_dim, dim, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        small_init_(self.proj_up.weight, dim=self.dim)
        wang_init_(self.proj_down.weight, dim=self.dim, num_blocks=self.num_blocks)
        for linear in (self.proj_up, self.proj_down):
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate_preact, up = self.proj_up(x).chunk(2, dim=-1)  # (..., hidden) each
        return self.dropout(self.proj_down(F.gelu(gate_preact) * up))
