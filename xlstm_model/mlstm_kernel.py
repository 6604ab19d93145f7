"""The mLSTM through NX-AI's `mlstm-kernels` (TFLA, Triton) on CUDA: argument and state mapping.

Both compute the paper's stabilized mLSTM (eqs. 19-27). The mapping, read from backends.py and
mlstm_kernels/torch/{chunkwise/native/fw.py, recurrent/native_step.py} (README "GPU kernels"
has it as a table):
- q, k, v: the same (B, NH, S, DH) tensors.
- Input gate: our `igate_preact` (B, NH, S, 1) is the kernel's `i` (B, NH, S); both use the
  exponential gate exp(i~) on that pre-activation.
- Forget gate: our `fgate_preact` (B, NH, S, 1) is the kernel's `f` (B, NH, S); both take
  log f = logsigmoid(f~).
- 1/sqrt(DH): we scale k before it enters the state; the kernel scales q (qk_scale =
  DH**-0.5) and its states hold unscaled k. So C_kernel = sqrt(DH) C and n_kernel = sqrt(DH) n.
- Shapes: n (B, NH, DH, 1) here, (B, NH, DH) there; m (B, NH, 1, 1) here, (B, NH, 1) there.
- Output: both C q / (max(|n^T q|, exp(-m)) + eps) with eps = 1e-6; the lower bound exp(-m)
  is the stabilized form of max(|n^T q|, 1).
- Empty state: ours C = 0, n = 0, m = -inf; the kernel's (no initial state) C = 0, n = 0, m = 0.
- Stabilizer: ours m_t = max_j (i~_j + sum_{j<s<=t} log f_s); the kernel's is the same max
  taken also over m_0 + sum_{s<=t} log f_s, and its Triton intra-chunk max is floored at -10.

In unstabilized form (Cbar = exp(m) C, nbar = exp(m) n), h = Cbar q / (max(|nbar^T q|, 1) +
eps exp(m_t)): m cancels except in the eps term. So both compute the same function at eps = 0,
and at eps = 1e-6 they differ only where eps exp(m_t) counts next to max(|nbar^T q|, 1) >= 1;
the kernel's m_t exceeds ours only up to max(m_t, 0) (m_0 = 0) or -10 (the floor), so the
relative difference is at most ~1e-6. An empty state handed to the kernel becomes its zero
state (m = -inf -> 0 where C = n = 0). A state read back is converted (C, n divided by
sqrt(DH)); m keeps the kernel's value, a valid stabilizer for that (C, n): the triple stands for
the same unstabilized state, so our step continues from it exactly.
"""

from __future__ import annotations

import math

import torch

from xlstm_model.backends import MLSTMState
from xlstm_model.kernels import register_loader

CHUNKWISE_KERNEL = "chunkwise--triton_xl_chunk"  # TFLA, Triton; forward and backward
STEP_KERNEL = "triton"  # fused recurrent step for generation
KERNEL_CHUNK_SIZES = (128, 64)  # powers of two the Triton kernel takes; S must be a multiple


def kernel_chunk_size(S: int) -> int | None:
    """The kernel chunk for a sequence of S tokens, or None (use the reference chunkwise)."""
    return next((L for L in KERNEL_CHUNK_SIZES if S % L == 0), None)


def to_kernel_state(state: MLSTMState | None, DH: int) -> dict[str, torch.Tensor | None]:
    """Our (c (B,NH,DH,DH), n (B,NH,DH,1), m (B,NH,1,1)) as the kernel's keyword arguments."""
    if state is None:
        return dict(c_initial=None, n_initial=None, m_initial=None)
    c_state, n_state, m_state = state
    scale = math.sqrt(DH)
    m_state = torch.nan_to_num(m_state, neginf=0.0)  # empty rows: C = n = 0, kernel's zero state
    return dict(
        c_initial=(c_state * scale).contiguous(),
        n_initial=(n_state[..., 0] * scale).contiguous(),  # (B, NH, DH)
        m_initial=m_state[..., 0].contiguous(),  # (B, NH, 1)
    )


def from_kernel_state(c: torch.Tensor, n: torch.Tensor, m: torch.Tensor) -> MLSTMState:
    """The kernel's (c (B,NH,DH,DH), n (B,NH,DH), m (B,NH,1)) as our state."""
    scale = 1.0 / math.sqrt(c.shape[-2])
    return c * scale, (n * scale)[..., None], m.reshape(*m.shape[:2], 1, 1)


def mlstm_chunkwise_kernel(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    initial_state: MLSTMState | None = None,
    eps: float = 1e-6,
    kernel: str = CHUNKWISE_KERNEL,
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, MLSTMState]:
    """`backends.mlstm_chunkwise` through an `mlstm-kernels` chunkwise kernel: (h, last state).

    q, k, v (B, NH, S, DH), gates (B, NH, S, 1); S must be a multiple of the chunk size
    (`kernel_chunk_size(S)` when None). `kernel` "chunkwise--native_autograd" is the package's
    PyTorch version of the same kernel (it runs on CPU: the tests check the mapping with it).
    """
    from mlstm_kernels.torch import get_mlstm_kernel

    S, DH = q.shape[-2], q.shape[-1]
    chunk_size = chunk_size or kernel_chunk_size(S)
    if chunk_size is None or S % chunk_size:
        msg = f"sequence length {S} is not a multiple of a kernel chunk size {KERNEL_CHUNK_SIZES}"
        raise ValueError(msg)
    h, (c, n, m) = get_mlstm_kernel(kernel)(
        q=q.contiguous(),
        k=k.contiguous(),
        v=v.contiguous(),
        i=igate_preact[..., 0].contiguous(),  # (B, NH, S)
        f=fgate_preact[..., 0].contiguous(),  # (B, NH, S)
        **to_kernel_state(initial_state, DH),
        return_last_states=True,
        eps=eps,
        chunk_size=chunk_size,
        autocast_kernel_dtype=_autocast_dtype(),
    )
    return h, from_kernel_state(c, n, m)


def mlstm_step_kernel(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    igate_preact: torch.Tensor,
    fgate_preact: torch.Tensor,
    state: MLSTMState,
    eps: float = 1e-6,
    kernel: str = STEP_KERNEL,
) -> tuple[torch.Tensor, MLSTMState]:
    """`backends.mlstm_recurrent_step` through an `mlstm-kernels` step kernel.

    q, k, v (B, NH, 1, DH), gates (B, NH, 1, 1) -> (h (B, NH, 1, DH), new state). `kernel`
    "native" is the package's PyTorch step (runs on CPU).
    """
    from mlstm_kernels.torch import get_mlstm_step_kernel

    DH = q.shape[-1]
    kernel_state = to_kernel_state(state, DH)
    h, (c, n, m) = get_mlstm_step_kernel(kernel)(
        q=q[:, :, 0].contiguous(),  # (B, NH, DH)
        k=k[:, :, 0].contiguous(),
        v=v[:, :, 0].contiguous(),
        i=igate_preact[:, :, 0].contiguous(),  # (B, NH, 1)
        f=fgate_preact[:, :, 0].contiguous(),
        c=kernel_state["c_initial"],
        n=kernel_state["n_initial"],
        m=kernel_state["m_initial"],
        eps=eps,
        dtype_state=torch.promote_types(state[0].dtype, torch.float32),  # fp32 (fp64 in tests)
    )
    return h[:, :, None], from_kernel_state(c, n, m)  # h (B, NH, 1, DH)


def _autocast_dtype() -> torch.dtype:
    """The dtype the kernel casts to under CUDA autocast (bf16 unless autocast says fp16)."""
    if torch.is_autocast_enabled("cuda"):
        return torch.get_autocast_dtype("cuda")
    return torch.bfloat16  # only used under autocast


def _load_mlstm_kernels() -> str:
    """Imports the Triton kernels and runs them once on CUDA (compiles them; fails loudly)."""
    import mlstm_kernels
    from mlstm_kernels.torch import get_available_mlstm_kernels, get_available_mlstm_step_kernels

    if CHUNKWISE_KERNEL not in get_available_mlstm_kernels():
        msg = f"mlstm-kernels has no {CHUNKWISE_KERNEL} (is Triton installed?)"
        raise ImportError(msg)
    if STEP_KERNEL not in get_available_mlstm_step_kernels():
        msg = f"mlstm-kernels has no step kernel {STEP_KERNEL!r} (is Triton installed?)"
        raise ImportError(msg)
    q, k, v = (torch.randn(1, 1, 64, 64, device="cuda") for _ in range(3))
    gates = torch.randn(1, 1, 64, 1, device="cuda")
    h, state = mlstm_chunkwise_kernel(q, k, v, gates, gates + 3.0)
    mlstm_step_kernel(*(x[:, :, :1] for x in (q, k, v, gates, gates)), state=state)
    if not torch.isfinite(h).all():
        msg = "the mLSTM kernel's smoke test gave non-finite outputs"
        raise RuntimeError(msg)
    version = getattr(mlstm_kernels, "__version__", "")
    return f"mlstm-kernels {version} {CHUNKWISE_KERNEL}, step {STEP_KERNEL}".replace("  ", " ")


register_loader("mlstm", _load_mlstm_kernels)
