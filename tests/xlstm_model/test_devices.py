"""`--device` resolution, the preset per device and the model-card fields."""

from __future__ import annotations

import pytest
import torch

from xlstm_model import devices, kernels
from xlstm_model.config import config_from_preset
from xlstm_model.errors import ModelError


def test_auto_and_cpu_resolve_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.resolve_device("auto") == torch.device("cpu")
    assert devices.resolve_device("CPU") == torch.device("cpu")


def test_cuda_without_cuda_is_a_one_line_error_naming_what_was_found(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(ModelError) as info:
        devices.resolve_device("cuda")
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        f"--device cuda: CUDA is not available (torch {torch.__version__} built without CUDA);"
        " use --device cpu"
    )


def test_cuda_build_without_a_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ModelError, match=r"with CUDA 13.0, no GPU found\); use --device cpu"):
        devices.resolve_device("cuda:0")


def test_unknown_device_names_the_choices():
    with pytest.raises(ModelError, match="'tpu' is not a device; use one of auto, cpu, cuda"):
        devices.resolve_device("tpu")


def test_default_preset_per_device_and_the_gpu_preset_builds():
    assert devices.default_preset(torch.device("cpu")) == "default"
    assert devices.default_preset(torch.device("cuda")) == "gpu"
    gpu = config_from_preset("gpu")
    assert gpu.context_length > config_from_preset("default").context_length
    assert gpu.slstm_at == [3, 9]
    from xlstm_model.loop import TRAIN_PRESETS

    assert TRAIN_PRESETS["gpu"].batch_size > TRAIN_PRESETS["default"].batch_size
    assert TRAIN_PRESETS["gpu"].vocab_size == TRAIN_PRESETS["default"].vocab_size


def test_device_card_on_cpu():
    kernels.reset_for_tests()
    card = devices.device_card(torch.device("cpu"), "default")
    assert card == {
        "device": "cpu",
        "preset": "default",
        "precision": "fp32",
        "torch_compile": False,
        "kernels": {"mlstm": "torch: cpu device", "slstm": "torch: cpu device"},
    }
