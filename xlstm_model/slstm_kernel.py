"""The sLSTM recurrence through the official `xlstm` package's CUDA kernel (no per-token loop).

The kernel (xlstm/blocks/slstm/src/cuda, compiled with nvcc + ninja at first use, cached per
hidden size, heads and dtype) computes the same step as `slstm.slstm_pointwise` with the
sigmoid forget gate: log f = logsigmoid(f~), m' = max(i~, log f + m) (m' = i~ where n == 0),
i = exp(i~ - m'), f = exp(log f + m - m'), c' = f c + i tanh(z~), n' = f n + i,
h' = sigmoid(o~) c' / n'; its min(1, .) clamps never bind (both exponents are <= 0). Layouts,
read from its `sLSTMCell_cuda`:
- input pre-activations Wx (S, B, NH * 4 * DH), per head [i | f | z | o] ("SBNGH"): ours
  (NH, S, B, 4*DH) permuted;
- recurrent kernel (NH, DH, 4*DH) and bias (NH * 4 * DH): exactly our `recurrent_kernel` and
  `bias` (the bias is added inside the kernel, so ours is passed, not added to Wx);
- states (4, B, NH * DH) = [h, c, n, m]: our empty state has m = -inf, the kernel's m = 0 with
  n = 0, which its n == 0 branch treats as empty (m' = i~): the same first step.
The exp forget gate ("exp") has no kernel: it keeps the PyTorch loop.
"""

from __future__ import annotations

import torch

from xlstm_model.kernels import register_loader, require_nvcc

_FUNCTIONS: dict[tuple[int, int, str], type[torch.autograd.Function]] = {}


def slstm_kernel_function(hidden_size: int, num_heads: int, dtype: str):
    """The official autograd Function for (hidden size, heads, dtype); compiles on first use."""
    key = (hidden_size, num_heads, dtype)
    if key not in _FUNCTIONS:
        from xlstm.blocks.slstm.cell import sLSTMCellConfig, sLSTMCellFuncGenerator

        config = sLSTMCellConfig(
            hidden_size=hidden_size, num_heads=num_heads, backend="cuda", dtype=dtype
        )
        _FUNCTIONS[key] = sLSTMCellFuncGenerator(True, config)
    return _FUNCTIONS[key]


def slstm_recurrence_kernel(
    wx: torch.Tensor,
    R: torch.Tensor,
    bias: torch.Tensor,
    state: tuple[torch.Tensor, ...],
    training: bool,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """`slstm.slstm_recurrence` (sigmoid forget gate) on the CUDA kernel.

    Args:
        wx: (NH, S, B, 4*DH) input pre-activations WITHOUT the bias.
        R: (NH, DH, 4*DH) recurrent weights; bias: (NH, 4*DH).
        state: (h_state, c_state, n_state, m_state), each (NH, B, DH).
        training: whether a backward pass will follow (the kernel then caches its gates).

    Returns:
        h for every step (NH, S, B, DH) and the last state, each (NH, B, DH).
    """
    NH, S, B, G = wx.shape
    DH = G // 4
    function = slstm_kernel_function(NH * DH, NH, kernel_dtype(wx))
    h_state, c_state, n_state, m_state = state
    m_state = torch.nan_to_num(m_state, neginf=0.0)  # empty: m = 0 with n = 0
    states = torch.stack([h_state, c_state, n_state, m_state])  # (4, NH, B, DH)
    states = states.permute(0, 2, 1, 3).reshape(4, B, NH * DH)  # (4, B, NH*DH)
    wx = wx.permute(1, 2, 0, 3).reshape(S, B, NH * G)  # (S, B, NH*4*DH)
    all_states = function.apply(
        training, wx.contiguous(), states.contiguous(), R.contiguous(), bias.reshape(-1)
    )  # (4, S+1, B, NH*DH)
    all_states = all_states.reshape(4, S + 1, B, NH, DH).permute(0, 3, 1, 2, 4)  # (4,NH,S+1,B,DH)
    h = all_states[0, :, 1:]  # (NH, S, B, DH)
    last = tuple(all_states[:, :, -1].unbind(0))  # 4 x (NH, B, DH)
    return h, last


def kernel_dtype(wx: torch.Tensor) -> str:
    """The kernel's dtype for inputs like `wx`: bfloat16 under CUDA autocast, else wx's own."""
    if torch.is_autocast_enabled("cuda"):
        return "bfloat16"
    return _dtype_name(wx.dtype)


def _dtype_name(dtype: torch.dtype) -> str:
    names = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}
    if dtype not in names:
        msg = f"the sLSTM CUDA kernel takes float32, bfloat16 or float16, not {dtype}"
        raise ValueError(msg)
    return names[dtype]


def _load_slstm_kernel() -> str:
    """Checks that the kernel can be built: nvcc on PATH, ninja, the official package.

    The build itself happens at the first forward of each (hidden size, heads, dtype); a build
    error there is caught by the cell, which then records the fallback.
    """
    require_nvcc()
    from torch.utils.cpp_extension import verify_ninja_availability

    verify_ninja_availability()  # RuntimeError without ninja
    import xlstm
    from xlstm.blocks.slstm.cell import sLSTMCellFuncGenerator  # noqa: F401

    return f"xlstm {getattr(xlstm, '__version__', '')} sLSTM CUDA kernel".replace("  ", " ")


register_loader("slstm", _load_slstm_kernel)
