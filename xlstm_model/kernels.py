"""Field kernels on CUDA: which one runs, why not, and the one-line fallback warning.

The pure-PyTorch forms in backends.py / slstm.py are the reference and the CPU path. On a CUDA
tensor, `MLSTMCell` and `SLSTMCell` ask `use_kernel(name)` whether a field kernel may run:
- "mlstm": NX-AI's `mlstm-kernels` (Tiled Flash Linear Attention, Triton), see mlstm_kernel.py;
- "slstm": the official `xlstm` package's sLSTM CUDA kernel (built with nvcc + ninja at first
  use), see slstm_kernel.py.
A kernel that cannot run (package or Triton missing, no nvcc, a build error) falls back to the
PyTorch path with ONE warning line per kernel and process, and `kernel_report()` records the
reason, so that the model card can say which path trained the model.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

KERNEL_MODES = ("auto", "torch")  # XLSTMConfig.kernels: field kernels on CUDA, or never
_STATUS: dict[str, str] = {}  # kernel name -> "kernel: ..." or "torch: <reason>"
_LOADERS: dict[str, Callable[[], object]] = {}


def register_loader(name: str, loader: Callable[[], object]) -> None:
    """`loader()` imports (or checks) kernel `name`; ImportError/RuntimeError when it can't."""
    _LOADERS[name] = loader


def use_kernel(name: str, tensor: torch.Tensor, mode: str) -> bool:
    """True when kernel `name` should run on `tensor` (CUDA, mode "auto", kernel loadable).

    The first failure to load logs one warning and is remembered: later calls return False
    without retrying.
    """
    if mode != "auto" or not _on_cuda(tensor):
        return False
    status = _STATUS.get(name)
    if status is None:
        status = _load(name)
    return status.startswith("kernel")


def _on_cuda(tensor: torch.Tensor) -> bool:
    return tensor.is_cuda


@torch.compiler.disable  # runs eagerly if first reached inside a torch.compile trace
def _load(name: str) -> str:
    try:
        description = _LOADERS[name]()
    except (ImportError, RuntimeError, OSError, AssertionError) as e:
        reason = error_line(e)
        _STATUS[name] = f"torch: {reason}"
        logger.warning("%s kernel unavailable (%s); using the PyTorch path", name, reason)
    else:
        _STATUS[name] = f"kernel: {description}"
    return _STATUS[name]


def error_line(error: BaseException) -> str:
    """ "TypeName: first line of the message"."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def mark_fallback(name: str, reason: str) -> None:
    """Records (and warns once) that kernel `name` failed at run time; later calls use PyTorch."""
    if not _STATUS.get(name, "").startswith("torch"):
        _STATUS[name] = f"torch: {reason}"
        logger.warning("%s kernel failed (%s); using the PyTorch path", name, reason)


def kernel_report(device: torch.device | str, mode: str = "auto") -> dict[str, str]:
    """Which path each cell uses on `device`: for the model card and the benches.

    On CUDA this loads the kernels (so a report taken before training names the real path);
    on CPU every cell runs the PyTorch reference.
    """
    device = torch.device(device)
    report = {}
    for name in ("mlstm", "slstm"):
        if device.type != "cuda":
            report[name] = f"torch: {device.type} device"
        elif mode != "auto":
            report[name] = f"torch: kernels={mode!r}"
        else:
            report[name] = _STATUS.get(name) or _load(name)
    return report


def require_nvcc() -> str:
    """Path of nvcc (the sLSTM kernel is compiled at first use); RuntimeError if absent.

    Looked up as torch's extension builder does: $CUDA_HOME/bin/nvcc, else nvcc on PATH.
    """
    from torch.utils.cpp_extension import CUDA_HOME

    candidates = [Path(CUDA_HOME) / "bin" / "nvcc"] if CUDA_HOME else []
    found = [str(c) for c in candidates if c.is_file()] or [shutil.which("nvcc")]
    if found[0] is None:
        msg = "nvcc not found (no CUDA_HOME, none on PATH); the sLSTM CUDA kernel needs it"
        raise RuntimeError(msg)
    return found[0]


def reset_for_tests() -> None:
    """Forgets every recorded status (tests only)."""
    _STATUS.clear()
