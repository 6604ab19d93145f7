"""Device choice for training and inference: `--device`, the preset per device, the card fields.

Small plain functions that the training CLI, the app and the benches share:
- `resolve_device("auto" | "cpu" | "cuda" | "cuda:N")` -> torch.device, or a one-line error;
- `default_preset(device)`: "gpu" on CUDA, "default" on CPU (what `make train` uses);
- `device_card(...)`: the model-card fields (device, preset, precision, compile, kernel paths).
"""

from __future__ import annotations

import logging

import torch

from xlstm_model.errors import ModelError
from xlstm_model.kernels import kernel_report

logger = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """The torch.device for `--device NAME`; ModelError naming what was found if CUDA is absent."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            msg = f"--device {name}: CUDA is not available ({cuda_found()}); use --device cpu"
            raise ModelError(msg)
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            msg = f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) found"
            raise ModelError(msg)
        return device
    msg = f"--device {name!r} is not a device; use one of {', '.join(DEVICE_CHOICES)} or cuda:N"
    raise ModelError(msg)


def cuda_found() -> str:
    """What this torch found of CUDA, in words, e.g. "torch 2.13.0+cpu built without CUDA"."""
    version = torch.__version__
    if torch.version.cuda is None:
        return f"torch {version} built without CUDA"
    try:
        count = torch.cuda.device_count()
    except RuntimeError as e:  # a broken driver
        return f"torch {version} with CUDA {torch.version.cuda}: {e}"
    if count == 0:
        return f"torch {version} with CUDA {torch.version.cuda}, no GPU found"
    return f"torch {version} with CUDA {torch.version.cuda}, {count} GPU(s)"


def default_preset(device: torch.device) -> str:
    """The model/training preset `make train` uses on `device`: "gpu" on CUDA, else "default"."""
    return "gpu" if torch.device(device).type == "cuda" else "default"


def device_name(device: torch.device) -> str:
    """ "cpu", or "cuda:0 (NVIDIA H200)"."""
    device = torch.device(device)
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def device_card(
    device: torch.device, preset: str, kernels: str = "auto", compiled: bool = False
) -> dict[str, object]:
    """Model-card fields: device, preset, precision, torch.compile, and each cell's path
    ("kernel: ..." or "torch: <why not>", a fallback reason included)."""
    device = torch.device(device)
    return {
        "device": device_name(device),
        "preset": preset,
        "precision": "bf16 autocast" if device.type == "cuda" else "fp32",
        "torch_compile": compiled,
        "kernels": kernel_report(device, kernels),
    }


def maybe_compile(model: torch.nn.Module, enabled: bool) -> torch.nn.Module:
    """`torch.compile(model)` when enabled, else the model itself (same parameters either way)."""
    if not enabled:
        return model
    return torch.compile(model)
