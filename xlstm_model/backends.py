"""Pure-tensor mLSTM backends: parallel, chunkwise and recurrent-step forms (paper eqs. 19-27).

Conventions of the official `xlstm.blocks.mlstm.backends`, so both can run on the same tensors:
q, k, v are (B, NH, S, DH); gate pre-activations (B, NH, S, 1); keys are scaled by 1/sqrt(DH)
here; the forget gate is a sigmoid taken in log space (logsigmoid); the exponential input gate
is stabilized by the max-state m, and the normalizer is max(|n^T q|, exp(-m)) + eps, the
stabilized form of max(|n^T q|, 1).

A recurrent state is (c_state (B, NH, DH, DH), n_state (B, NH, DH, 1), m_state (B, NH, 1, 1)).
The empty state has m_state = -inf: the first step then sets m to its input-gate pre-activation,
so every form uses the same stabilizer m_t = max_{j<=t}(i_j + sum_{j<s<=t} log f_s) and the three
forms agree to rounding, eps included.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MLSTMState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def mlstm_empty_state(
    B: int, NH: int, DH: int, device: torch.device | str | None = None, dtype=torch.float32
) -> MLSTMState:
    """The state before the first token: zero memory, m_state = -inf."""
    c_state = torch.zeros(B, NH, DH, DH, device=device, dtype=dtype)
    n_state = torch.zeros(B, NH, DH, 1, device=device, dtype=dtype)
    m_state = torch.full((B, NH, 1, 1), -math.inf, device=device, dtype=dtype)
    return c_state, n_state, m_state


def mlstm_parallel(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    eps: float = 1e-6,
) -> torch.Tensor:
    """The quadratic parallel form (appendix A.3), row-wise stabilized; returns h (B, NH, S, DH)."""
    B, NH, S, DH = q.shape
    log_fgates_cumsum = torch.cumsum(F.logsigmoid(fgate_preact), dim=-2)  # (B, NH, S, 1)
    # log_D[t, j] = sum_{j<s<=t} log f_s + i_j for j <= t
    log_D = log_fgates_cumsum - log_fgates_cumsum.transpose(-2, -1)  # (B, NH, S, S)
    log_D = log_D + igate_preact.transpose(-2, -1)  # (B, NH, S, S)
    causal = torch.ones(S, S, dtype=torch.bool, device=q.device).tril()
    log_D = log_D.masked_fill(~causal, -math.inf)  # (B, NH, S, S)
    max_log_D = log_D.amax(dim=-1, keepdim=True)  # (B, NH, S, 1) = m_t
    D = torch.exp(log_D - max_log_D)  # (B, NH, S, S)
    C = (q @ (k / math.sqrt(DH)).transpose(-2, -1)) * D  # (B, NH, S, S)
    normalizer = torch.maximum(C.sum(dim=-1, keepdim=True).abs(), torch.exp(-max_log_D))
    return (C @ v) / (normalizer + eps)  # (B, NH, S, DH)


def mlstm_recurrent_step(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    state: MLSTMState,
    eps: float = 1e-6,
) -> tuple[torch.Tensor, MLSTMState]:
    """One step: q, k, v (B, NH, 1, DH), gates (B, NH, 1, 1) -> (h (B, NH, 1, DH), new state)."""
    c_state, n_state, m_state = state
    DH = q.shape[-1]
    log_fgate = F.logsigmoid(fgate_preact)  # (B, NH, 1, 1)
    m_state_new = torch.maximum(log_fgate + m_state, igate_preact)  # (B, NH, 1, 1)
    fgate = torch.exp(log_fgate + m_state - m_state_new)  # (B, NH, 1, 1)
    igate = torch.exp(igate_preact - m_state_new)  # (B, NH, 1, 1)
    k_scaled = k.transpose(-2, -1) / math.sqrt(DH)  # (B, NH, DH, 1)
    c_state_new = fgate * c_state + igate * (k_scaled @ v)  # (B, NH, DH, DH)
    n_state_new = fgate * n_state + igate * k_scaled  # (B, NH, DH, 1)
    h_num = q @ c_state_new  # (B, NH, 1, DH)
    qn = q @ n_state_new  # (B, NH, 1, 1)
    h_denom = torch.maximum(qn.abs(), torch.exp(-m_state_new)) + eps  # (B, NH, 1, 1)
    return h_num / h_denom, (c_state_new, n_state_new, m_state_new)


def mlstm_recurrent(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    initial_state: MLSTMState | None = None,
    eps: float = 1e-6,
) -> tuple[torch.Tensor, MLSTMState]:
    """`mlstm_recurrent_step` over a whole sequence (a slow reference): (h, last state)."""
    B, NH, S, DH = q.shape
    state = initial_state
    if state is None:
        state = mlstm_empty_state(B, NH, DH, q.device, q.dtype)
    hs = []
    for t in range(S):
        step_inputs = (x[:, :, t : t + 1] for x in (q, k, v, igate_preact, fgate_preact))
        h, state = mlstm_recurrent_step(*step_inputs, state=state, eps=eps)
        hs.append(h)
    return torch.cat(hs, dim=2), state  # (B, NH, S, DH)


def mlstm_chunkwise(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    chunk_size: int = 64,
    initial_state: MLSTMState | None = None,
    eps: float = 1e-6,
) -> tuple[torch.Tensor, MLSTMState]:
    """The chunkwise form: parallel inside chunks of `chunk_size`, recurrent across them.

    Linear in S. The states at the chunk boundaries come from one small matmul over chunks (the
    parallel form one level up), so there is no Python loop over time or chunks. The normalizer
    state n rides along as an extra column of C (v is augmented with ones), so each matmul that
    reads or writes C also yields n^T q or n. S need not be a multiple of `chunk_size`: the tail
    is padded with steps that neither write (i = -inf) nor decay (log f = 0), so the returned
    last state is the one after token S. Returns (h (B, NH, S, DH), last state), like
    `mlstm_recurrent`.
    """
    B, NH, S, DH = q.shape
    L = min(chunk_size, S)
    NC = -(-S // L)  # number of chunks
    if initial_state is None:
        initial_state = mlstm_empty_state(B, NH, DH, q.device, q.dtype)
    log_fgates, igate = F.logsigmoid(fgate_preact), igate_preact  # (B, NH, S, 1)
    v_aug = torch.cat([v, torch.ones_like(v[..., :1])], dim=-1)  # (B, NH, S, DH+1): n via 1s
    q, k, v_aug, log_fgates, igate = _pad_tail(
        (q, k / math.sqrt(DH), v_aug, log_fgates, igate), NC * L - S
    )
    q = q.reshape(B, NH, NC, L, DH)  # (B, NH, NC, L, DH)
    k = k.reshape(B, NH, NC, L, DH)  # (B, NH, NC, L, DH)
    v_aug = v_aug.reshape(B, NH, NC, L, DH + 1)  # (B, NH, NC, L, DH+1)
    igate = igate.reshape(B, NH, NC, L)  # (B, NH, NC, L)
    log_fgates_acc = log_fgates.reshape(B, NH, NC, L).cumsum(dim=-1)  # (B, NH, NC, L)
    c_n_start, m_start, last = _chunk_start_states(k, v_aug, igate, log_fgates_acc, initial_state)
    h = _chunk_outputs(q, k, v_aug, igate, log_fgates_acc, c_n_start, m_start, eps)
    h = h.reshape(B, NH, NC * L, DH)[:, :, :S]  # (B, NH, S, DH)
    return h, last


def _pad_tail(tensors: tuple[torch.Tensor, ...], pad: int) -> tuple[torch.Tensor, ...]:
    """Pads (q, k, v_aug, log_fgates, igate) along S with no-op steps: zeros, log f 0, i -inf."""
    if pad == 0:
        return tensors
    *qkv, log_fgates, igate = tensors
    qkv = [F.pad(x, (0, 0, 0, pad)) for x in qkv]  # (B, NH, S+pad, DH[+1])
    log_fgates = F.pad(log_fgates, (0, 0, 0, pad), value=0.0)  # (B, NH, S+pad, 1)
    igate = F.pad(igate, (0, 0, 0, pad), value=-math.inf)  # (B, NH, S+pad, 1)
    return (*qkv, log_fgates, igate)


def _chunk_start_states(
    k: torch.Tensor,
    v_aug: torch.Tensor,
    igate: torch.Tensor,
    log_fgates_acc: torch.Tensor,
    initial_state: MLSTMState,
) -> tuple[torch.Tensor, torch.Tensor, MLSTMState]:
    """States at the start of every chunk and after the last one.

    Returns [c | n] at chunk starts (B, NH, NC, DH, DH+1), m at chunk starts (B, NH, NC) and the
    last state as (c_state, n_state, m_state).
    """
    c_state0, n_state0, m_state0 = initial_state
    B, NH, NC, L, DH = k.shape
    chunk_log_fgate = log_fgates_acc[..., -1]  # (B, NH, NC): log decay over a whole chunk
    # log weight of step j in the state at the end of its chunk: i_j + sum_{j<s<=L} log f_s
    log_w = igate + chunk_log_fgate[..., None] - log_fgates_acc  # (B, NH, NC, L)
    m_local = log_w.amax(dim=-1)  # (B, NH, NC)
    k_weighted = k * torch.exp(log_w - m_local[..., None])[..., None]  # (B, NH, NC, L, DH)
    kv = k_weighted.transpose(-2, -1) @ v_aug  # (B, NH, NC, DH, DH+1): [sum k v^T | sum k]
    c_n0 = torch.cat([c_state0, n_state0], dim=-1)  # (B, NH, DH, DH+1)
    # the initial state is chunk "-1", contributing with its own max-state m0 and no decay
    kv = torch.cat([c_n0[:, :, None], kv], dim=2)  # (B, NH, NC+1, DH, DH+1)
    m_local = torch.cat([m_state0.reshape(B, NH, 1), m_local], dim=2)  # (B, NH, NC+1)
    log_decay = F.pad(chunk_log_fgate, (1, 0))  # (B, NH, NC+1)
    # log weight of source chunk c' in the state after chunk c (rows c = 0..NC-1, cols 0..NC)
    log_weights = _segment_sums(log_decay)[:, :, 1:] + m_local[:, :, None, :]  # (B,NH,NC,NC+1)
    m_end = log_weights.amax(dim=-1)  # (B, NH, NC)
    weights = torch.exp(log_weights - m_end[..., None])  # (B, NH, NC, NC+1)
    c_n_end = (weights @ kv.reshape(B, NH, NC + 1, -1)).reshape(B, NH, NC, DH, DH + 1)
    c_n_start = torch.cat([c_n0[:, :, None], c_n_end[:, :, :-1]], dim=2)  # (B,NH,NC,DH,DH+1)
    m_start = torch.cat([m_state0.reshape(B, NH, 1), m_end[:, :, :-1]], dim=2)  # (B, NH, NC)
    c_last, n_last = c_n_end[:, :, -1].split([DH, 1], dim=-1)  # (B,NH,DH,DH), (B,NH,DH,1)
    return c_n_start, m_start, (c_last, n_last, m_end[:, :, -1, None, None])


def _segment_sums(x: torch.Tensor) -> torch.Tensor:
    """out[..., t, j] = sum_{j<s<=t} x[..., s] for j <= t, -inf above the diagonal.

    Summed per segment rather than as a difference of cumulative sums, which loses precision
    once the totals grow large.
    """
    T = x.shape[-1]
    ones = torch.ones(T, T, dtype=torch.bool, device=x.device)
    x = x[..., :, None].expand(*x.shape, T)  # (..., T, T): x[s] in row s
    x = x.masked_fill(~ones.tril(-1), 0.0).cumsum(dim=-2)  # (..., T, T)
    return x.masked_fill(~ones.tril(), -math.inf)


def _chunk_outputs(
    q: torch.Tensor,
    k: torch.Tensor,
    v_aug: torch.Tensor,
    igate: torch.Tensor,
    log_fgates_acc: torch.Tensor,
    c_n_start: torch.Tensor,
    m_start: torch.Tensor,
    eps: float,
) -> torch.Tensor:
    """h for every chunk: intra-chunk parallel part plus the read of the chunk's start state."""
    L, DH = q.shape[-2], q.shape[-1]
    causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
    log_D = log_fgates_acc[..., :, None] - log_fgates_acc[..., None, :]  # (B, NH, NC, L, L)
    log_D = (log_D + igate[..., None, :]).masked_fill(~causal, -math.inf)  # (B,NH,NC,L,L)
    log_inter = log_fgates_acc + m_start[..., None]  # (B, NH, NC, L): start state's weight
    stab = torch.maximum(log_D.amax(dim=-1), log_inter)  # (B, NH, NC, L) = m_t
    E = (q @ k.transpose(-2, -1)) * torch.exp(log_D - stab[..., None])  # (B, NH, NC, L, L)
    q_inter = q * torch.exp(log_inter - stab)[..., None]  # (B, NH, NC, L, DH)
    h_aug = E @ v_aug + q_inter @ c_n_start  # (B, NH, NC, L, DH+1): [numerator | n^T q]
    h_num, qn = h_aug.split([DH, 1], dim=-1)  # (B, NH, NC, L, DH), (B, NH, NC, L, 1)
    normalizer = torch.maximum(qn.abs(), torch.exp(-stab)[..., None])  # (B, NH, NC, L, 1)
    return h_num * (1.0 / (normalizer + eps))  # (B, NH, NC, L, DH); no division on h_num
