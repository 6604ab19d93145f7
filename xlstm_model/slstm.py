"""sLSTM recurrence and cell (paper eqs. 8-17), layer and post up-projection block (Fig. 10).

Heads: the recurrent matrix R is block-diagonal, (NH, DH, 4*DH), so memory mixing stays inside a
head. Inside the time loop everything is laid out head-first, (NH, B, .), so the recurrent part of
all four gates is one batched matmul per step (`torch.baddbmm`, the input part added in the same
call); the input projections of the whole sequence are computed before the loop.

State of one block: a dict with conv_state (B, K-1, D) and h_state, c_state, n_state, m_state,
each (B, NH, DH). The empty state has m_state = -inf, so the first step sets m to the input-gate
pre-activation (what the official vanilla kernel does when n == 0) and n >= 1 from then on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from xlstm_model.components import (
    CausalConv1d,
    GatedFeedForward,
    LinearHeadwise,
    MultiHeadLayerNorm,
    small_init_,
)
from xlstm_model.config import XLSTMConfig
from xlstm_model.kernels import error_line, mark_fallback, use_kernel
from xlstm_model.slstm_kernel import kernel_dtype, slstm_kernel_function, slstm_recurrence_kernel

State = dict[str, torch.Tensor]
CELL_STATES = ("h_state", "c_state", "n_state", "m_state")


def slstm_pointwise(
    raw: torch.Tensor,
    c_state: torch.Tensor,
    n_state: torch.Tensor,
    m_state: torch.Tensor,
    exp_forget: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step from the gate pre-activations raw (..., 4*DH) = [i | f | z | o]."""
    igate_preact, fgate_preact, zgate_preact, ogate_preact = raw.chunk(4, dim=-1)
    log_fgate = fgate_preact if exp_forget else F.logsigmoid(fgate_preact)
    log_fgate_plus_m = log_fgate + m_state
    m_state = torch.maximum(igate_preact, log_fgate_plus_m)  # (15)
    igate = torch.exp(igate_preact - m_state)  # (16)
    fgate = torch.exp(log_fgate_plus_m - m_state)  # (17)
    c_state = fgate * c_state + igate * torch.tanh(zgate_preact)  # (8)
    n_state = fgate * n_state + igate  # (9)
    h_state = torch.sigmoid(ogate_preact) * c_state / n_state  # (10)
    return h_state, c_state, n_state, m_state


def slstm_recurrence(
    wx: torch.Tensor, R: torch.Tensor, state: tuple[torch.Tensor, ...], exp_forget: bool
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """Runs the sLSTM over a sequence.

    Args:
        wx: (NH, S, B, 4*DH) input pre-activations plus bias, per head [i | f | z | o].
        R: (NH, DH, 4*DH) recurrent weights, R[h, d, g*DH + e]: from h_{t-1}[h, d] to gate g, e.
        state: (h_state, c_state, n_state, m_state), each (NH, B, DH).

    Returns:
        h for every step (NH, S, B, DH) and the last state.
    """
    h_state, c_state, n_state, m_state = state
    hs = []
    for wx_t in wx.unbind(dim=1):  # (NH, B, 4*DH)
        raw = torch.baddbmm(wx_t, h_state, R)  # (NH, B, 4*DH)
        h_state, c_state, n_state, m_state = slstm_pointwise(
            raw, c_state, n_state, m_state, exp_forget
        )
        hs.append(h_state)
    return torch.stack(hs, dim=1), (h_state, c_state, n_state, m_state)


class SLSTMCell(nn.Module):
    """Recurrent weights, gate biases and the recurrence over (NH, S, B, 4*DH) pre-activations."""

    def __init__(self, config: XLSTMConfig, block_idx: int) -> None:
        super().__init__()
        self.num_heads = NH = config.num_heads
        self.head_dim = DH = config.embedding_dim // NH
        self.exp_forget = config.slstm_forget_gate == "exp"
        self.kernels = config.kernels
        self.block_idx, self.num_blocks = block_idx, config.num_blocks
        self.recurrent_kernel = nn.Parameter(torch.zeros(NH, DH, 4 * DH))
        self.bias = nn.Parameter(torch.zeros(NH, 4 * DH))

    def reset_parameters(self) -> None:
        """Zero recurrent weights; forget-gate bias "powerlaw_blockdependent" (official default)."""
        nn.init.zeros_(self.recurrent_kernel)
        ratio = self.block_idx / (self.num_blocks - 1) if self.num_blocks > 1 else 0.0
        position = torch.arange(self.head_dim) / max(self.head_dim - 1, 1)  # (DH,)
        fgate_bias = 5.0 - 12.0 * position ** (0.3 + 1.3 * ratio)  # from 5 down to -7
        with torch.no_grad():
            self.bias.zero_()
            self.bias[:, self.head_dim : 2 * self.head_dim] = fgate_bias.to(self.bias.device)

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> State:
        shape = (B, self.num_heads, self.head_dim)
        state = {name: torch.zeros(shape, device=device, dtype=dtype) for name in CELL_STATES}
        state["m_state"] = torch.full(shape, -math.inf, device=device, dtype=dtype)
        return state

    def forward(self, wx: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """wx (NH, S, B, 4*DH) without bias -> (h (NH, S, B, DH), state after the last step)."""
        if state is None:
            state = self.empty_state(wx.shape[2], wx.device, wx.dtype)
        heads_first = tuple(state[name].transpose(0, 1) for name in CELL_STATES)  # (NH, B, DH)
        if self._kernel_ready(wx):  # CUDA: the official kernel adds the bias itself
            h, last = slstm_recurrence_kernel(
                wx, self.recurrent_kernel, self.bias, heads_first, self.training
            )
        else:
            wx = wx + self.bias[:, None, None, :]  # (NH, S, B, 4*DH)
            h, last = slstm_recurrence(wx, self.recurrent_kernel, heads_first, self.exp_forget)
        return h, {name: s.transpose(0, 1) for name, s in zip(CELL_STATES, last, strict=True)}

    def _kernel_ready(self, wx: torch.Tensor) -> bool:
        """Whether the CUDA kernel runs on `wx`: builds it at first use; a failed build falls
        back to the PyTorch loop (one warning, recorded for the model card)."""
        if self.exp_forget or not use_kernel("slstm", wx, self.kernels):
            return False
        try:
            slstm_kernel_function(self.num_heads * self.head_dim, self.num_heads, kernel_dtype(wx))
        except (RuntimeError, OSError, ImportError, ValueError) as e:
            mark_fallback("slstm", f"build failed: {error_line(e)}")
            return False
        return True


class SLSTMLayer(nn.Module):
    """Causal conv + swish feeding i and f, block-diagonal input projections (one block per
    head), the sLSTM cell and a head-wise GroupNorm."""

    def __init__(self, config: XLSTMConfig, block_idx: int) -> None:
        super().__init__()
        D, NH = config.embedding_dim, config.num_heads
        self.embedding_dim, self.num_heads, self.head_dim = D, NH, D // NH
        self.conv1d = CausalConv1d(D, config.conv_kernel_size)
        self.if_proj = LinearHeadwise(D, NH, 2 * D)  # per head: [W_i; W_f] (2*DH, DH)
        self.zo_proj = LinearHeadwise(D, NH, 2 * D)  # per head: [W_z; W_o]
        self.cell = SLSTMCell(config, block_idx)
        self.group_norm = MultiHeadLayerNorm(NH, D // NH)
        self.dropout = nn.Dropout(config.dropout)

    def reset_parameters(self) -> None:
        self.conv1d.reset_parameters()
        small_init_(self.if_proj.weight, dim=self.embedding_dim)
        small_init_(self.zo_proj.weight, dim=self.embedding_dim)
        self.cell.reset_parameters()
        self.group_norm.reset_parameters()

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> State:
        conv_state = self.conv1d.empty_state(B, device, dtype)
        return dict(conv_state=conv_state, **self.cell.empty_state(B, device, dtype))

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, S, D) -> (y (B, S, D), state after the last token)."""
        B, S, D = x.shape
        NH, DH = self.num_heads, self.head_dim
        x_conv, conv_state = self.conv1d(x, None if state is None else state["conv_state"])
        x_conv = F.silu(x_conv) if self.conv1d.kernel_size > 0 else x_conv

        def heads_first(t: torch.Tensor) -> torch.Tensor:  # (B, S, D) -> (NH, S*B, DH)
            return t.reshape(B, S, NH, DH).permute(2, 1, 0, 3).reshape(NH, S * B, DH)

        wx_if = self.if_proj.forward_heads(heads_first(x_conv))  # (NH, S*B, 2*DH)
        wx_zo = self.zo_proj.forward_heads(heads_first(x))  # (NH, S*B, 2*DH)
        wx = torch.cat([wx_if, wx_zo], dim=-1).view(NH, S, B, 4 * DH)  # (NH, S, B, 4*DH)
        h, cell_state = self.cell(wx, state)  # (NH, S, B, DH)
        h = self.dropout(h.permute(2, 1, 0, 3))  # (B, S, NH, DH)
        return self.group_norm(h), dict(conv_state=conv_state, **cell_state)  # (B, S, D)

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x (B, D) -> (y (B, D), new state): the sequence form with S = 1."""
        y, state = self.forward(x[:, None], state)  # (B, 1, D)
        return y[:, 0], state


class SLSTMBlock(nn.Module):
    """Pre-LayerNorm residual sLSTM layer followed by a pre-LayerNorm residual gated MLP."""

    def __init__(self, config: XLSTMConfig, block_idx: int) -> None:
        super().__init__()
        D = config.embedding_dim
        self.norm = nn.LayerNorm(D, bias=False)
        self.layer = SLSTMLayer(config, block_idx)
        self.ffn_norm = nn.LayerNorm(D, bias=False)
        self.ffn = GatedFeedForward(
            D, config.ffn_dim, config.num_blocks, config.bias, config.dropout
        )

    def reset_parameters(self) -> None:
        for module in (self.norm, self.layer, self.ffn_norm, self.ffn):
            module.reset_parameters()

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> State:
        return self.layer.empty_state(B, device, dtype)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        y, state = self.layer(self.norm(x), state)
        x = x + y
        return x + self.ffn(self.ffn_norm(x)), state

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        y, state = self.layer.step(self.norm(x), state)
        x = x + y
        return x + self.ffn(self.ffn_norm(x)), state
