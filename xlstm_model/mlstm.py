"""mLSTM cell, layer (pre up-projection, paper Fig. 11) and residual block.

State of one block: a dict with conv_state (B, K-1, DI), c_state (B, NH, DH, DH),
n_state (B, NH, DH, 1), m_state (B, NH, 1, 1); DI = inner width, DH = DI / NH.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from xlstm_model.backends import mlstm_chunkwise, mlstm_empty_state, mlstm_recurrent_step
from xlstm_model.components import (
    CausalConv1d,
    LinearHeadwise,
    MultiHeadLayerNorm,
    small_init_,
    wang_init_,
)
from xlstm_model.config import XLSTMConfig
from xlstm_model.kernels import use_kernel
from xlstm_model.mlstm_kernel import kernel_chunk_size, mlstm_chunkwise_kernel, mlstm_step_kernel

State = dict[str, torch.Tensor]
CELL_STATES = ("c_state", "n_state", "m_state")


class MLSTMCell(nn.Module):
    """Input/forget gates from [q, k, v], the mLSTM memory, and the head-wise output norm."""

    def __init__(
        self, inner_dim: int, num_heads: int, backend: str, chunk_size: int, kernels: str = "auto"
    ) -> None:
        super().__init__()
        self.num_heads, self.head_dim = num_heads, inner_dim // num_heads
        self.backend, self.chunk_size, self.kernels = backend, chunk_size, kernels
        # input and forget gate of every head from [q, k, v]: rows [igate (NH); fgate (NH)]
        self.gates = nn.Linear(3 * inner_dim, 2 * num_heads)
        self.outnorm = MultiHeadLayerNorm(num_heads, self.head_dim)

    def reset_parameters(self) -> None:
        self.outnorm.reset_parameters()
        nn.init.zeros_(self.gates.weight)
        igate_bias, fgate_bias = self.gates.bias.data.chunk(2)
        nn.init.normal_(igate_bias, mean=0.0, std=0.1)
        fgate_bias.copy_(torch.linspace(3.0, 6.0, self.num_heads))  # spread across heads

    def _heads(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        """(B, S, DI) each -> q, k, v (B, NH, S, DH) and gate pre-activations (B, NH, S, 1)."""
        B, S, _ = q.shape
        w_q, w_k, w_v = self.gates.weight.chunk(3, dim=1)  # (2*NH, DI) each: no [q, k, v] copy
        gate_preacts = torch.addmm(self.gates.bias, q.reshape(B * S, -1), w_q.t())  # (B*S, 2*NH)
        gate_preacts = gate_preacts.addmm(k.reshape(B * S, -1), w_k.t())
        gate_preacts = gate_preacts.addmm(v.reshape(B * S, -1), w_v.t())
        gate_preacts = gate_preacts.reshape(B, S, 2, self.num_heads).permute(2, 0, 3, 1)
        igate_preact, fgate_preact = gate_preacts[..., None]  # (B, NH, S, 1) each
        q, k, v = (x.reshape(B, S, self.num_heads, -1).transpose(1, 2) for x in (q, k, v))
        return q, k, v, igate_preact, fgate_preact  # q, k, v: (B, NH, S, DH)

    def forward(self, q, k, v, state: tuple | None = None) -> tuple[torch.Tensor, tuple]:
        """Whole sequence: q, k, v (B, S, DI) -> (h (B, S, DI), (c_state, n_state, m_state)).

        On CUDA, with S a multiple of a kernel chunk, the TFLA kernel (mlstm_kernel.py) computes
        the same function; elsewhere the PyTorch chunkwise form.
        """
        B, S, _ = q.shape
        heads = self._heads(q, k, v)
        if use_kernel("mlstm", q, self.kernels) and kernel_chunk_size(S):
            h, state = mlstm_chunkwise_kernel(*heads, initial_state=state)  # (B, NH, S, DH)
        else:
            chunk_size = self.chunk_size if self.backend == "chunkwise" else S  # parallel: 1 chunk
            h, state = mlstm_chunkwise(*heads, chunk_size, initial_state=state)  # (B, NH, S, DH)
        return self.outnorm(h.transpose(1, 2)), state  # (B, S, DI)

    def step(self, q, k, v, state: tuple) -> tuple[torch.Tensor, tuple]:
        """One token: q, k, v (B, 1, DI) -> (h (B, 1, DI), new state)."""
        step = mlstm_step_kernel if use_kernel("mlstm", q, self.kernels) else mlstm_recurrent_step
        h, state = step(*self._heads(q, k, v), state=state)  # (B, NH, 1, DH)
        return self.outnorm(h.transpose(1, 2)), state  # (B, 1, DI)


class MLSTMLayer(nn.Module):
    """Up-projection (x2, one half for the output gate), causal conv + swish feeding q and k,
    block-diagonal q/k/v, the mLSTM cell, learnable skip, output gate, down-projection."""

    def __init__(self, config: XLSTMConfig) -> None:
        super().__init__()
        D, DI = config.embedding_dim, config.mlstm_inner_dim
        self.embedding_dim, self.inner_dim, self.num_blocks = D, DI, config.num_blocks
        self.block_size = config.qkv_proj_blocksize
        self.proj_up = nn.Linear(D, 2 * DI, bias=config.bias)
        num_qkv_blocks = DI // config.qkv_proj_blocksize
        self.qk_proj = LinearHeadwise(DI, num_qkv_blocks, 2 * DI)  # per block [W_q; W_k]
        self.v_proj = LinearHeadwise(DI, num_qkv_blocks)
        self.conv1d = CausalConv1d(DI, config.conv_kernel_size)
        self.cell = MLSTMCell(
            DI, config.num_heads, config.mlstm_backend, config.mlstm_chunk_size, config.kernels
        )
        self.learnable_skip = nn.Parameter(torch.ones(DI))
        self.proj_down = nn.Linear(DI, D, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def reset_parameters(self) -> None:
        small_init_(self.proj_up.weight, dim=self.embedding_dim)
        wang_init_(self.proj_down.weight, dim=self.embedding_dim, num_blocks=self.num_blocks)
        for linear in (self.proj_up, self.proj_down):
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)
        for proj in (self.qk_proj, self.v_proj):
            small_init_(proj.weight, dim=self.embedding_dim)
        nn.init.ones_(self.learnable_skip)
        self.conv1d.reset_parameters()
        self.cell.reset_parameters()

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> State:
        cell_state = mlstm_empty_state(B, self.cell.num_heads, self.cell.head_dim, device, dtype)
        conv_state = self.conv1d.empty_state(B, device, dtype)
        return dict(conv_state=conv_state, **dict(zip(CELL_STATES, cell_state, strict=True)))

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, S, D) -> (y (B, S, D), state after the last token)."""
        return self._run(x, state, self.cell.forward)

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x (B, D) -> (y (B, D), new state), via the recurrent form."""
        y, state = self._run(x[:, None], state, self.cell.step)  # (B, 1, D)
        return y[:, 0], state

    def _run(self, x: torch.Tensor, state: State | None, cell_fn) -> tuple[torch.Tensor, State]:
        B, S, _ = x.shape
        x_mlstm, z = self.proj_up(x).chunk(2, dim=-1)  # (B, S, DI) each
        conv_state = None if state is None else state["conv_state"]
        x_conv, conv_state = self.conv1d(x_mlstm, conv_state)  # (B, S, DI)
        x_conv_act = F.silu(x_conv)
        q, k = self.qk_proj(x_conv_act).view(B, S, -1, 2, self.block_size).unbind(dim=3)
        q, k = q.reshape(B, S, -1), k.reshape(B, S, -1)  # (B, S, DI) each
        v = self.v_proj(x_mlstm)  # (B, S, DI)
        cell_state = None if state is None else tuple(state[name] for name in CELL_STATES)
        h, cell_state = cell_fn(q, k, v, cell_state)  # (B, S, DI)
        h = (h + self.learnable_skip * x_conv_act) * F.silu(z)  # skip, then output gate
        y = self.dropout(self.proj_down(h))  # (B, S, D)
        return y, dict(conv_state=conv_state, **dict(zip(CELL_STATES, cell_state, strict=True)))


class MLSTMBlock(nn.Module):
    """Pre-LayerNorm residual block around an mLSTM layer."""

    def __init__(self, config: XLSTMConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(config.embedding_dim, bias=False)
        self.layer = MLSTMLayer(config)

    def reset_parameters(self) -> None:
        self.norm.reset_parameters()
        self.layer.reset_parameters()

    def empty_state(self, B: int, device=None, dtype=torch.float32) -> State:
        return self.layer.empty_state(B, device, dtype)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        y, state = self.layer(self.norm(x), state)
        return x + y, state

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        y, state = self.layer.step(self.norm(x), state)
        return x + y, state
