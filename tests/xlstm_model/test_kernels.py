"""The CUDA kernel paths: argument/state mapping, dispatch and fallback.

On CPU: the mLSTM mapping runs against mlstm-kernels' own PyTorch versions of the same kernels
("chunkwise--native_autograd", step "native"); the sLSTM layouts run against an emulation of the
official CUDA kernel's contract built from the official package's own layout conversions and its
vanilla recurrence. The `gpu` tests run the real kernels on a CUDA device.
"""

from __future__ import annotations

import logging
import math
from functools import partial

import pytest
import torch

from xlstm_model import kernels, mlstm, slstm
from xlstm_model.backends import mlstm_chunkwise, mlstm_empty_state, mlstm_recurrent_step
from xlstm_model.config import XLSTMConfig
from xlstm_model.mlstm_kernel import (
    kernel_chunk_size,
    mlstm_chunkwise_kernel,
    mlstm_step_kernel,
)
from xlstm_model.model import XLSTMLM

B, NH, DH = 2, 3, 16
NATIVE_CHUNKWISE = partial(mlstm_chunkwise_kernel, kernel="chunkwise--native_autograd")
NATIVE_STEP = partial(mlstm_step_kernel, kernel="native")


def mlstm_inputs(S: int, seed: int = 0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, NH, S, DH, generator=gen, dtype=dtype) for _ in range(3))
    igate = 2.0 * torch.randn(B, NH, S, 1, generator=gen, dtype=dtype)
    fgate = 2.0 * torch.randn(B, NH, S, 1, generator=gen, dtype=dtype) + 3.0
    return [x.requires_grad_() for x in (q, k, v, igate, fgate)]


def unstabilized(state):
    """(C exp(m), n exp(m)): the state independent of its stabilizer."""
    c_state, n_state, m_state = state
    return c_state * torch.exp(m_state), n_state * torch.exp(m_state)


@pytest.mark.parametrize("eps", [0.0, 1e-6])
def test_mlstm_kernel_mapping_matches_the_reference_chunkwise(eps):
    inputs = mlstm_inputs(S=128)
    h_ref, state_ref = mlstm_chunkwise(*inputs, chunk_size=64, eps=eps)
    h, state = NATIVE_CHUNKWISE(*inputs, eps=eps, chunk_size=32)
    torch.testing.assert_close(h, h_ref, rtol=1e-9, atol=1e-9)
    for ours, ref in zip(unstabilized(state), unstabilized(state_ref), strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)
    weights = torch.randn(h.shape, dtype=h.dtype)
    g_ref = torch.autograd.grad((h_ref * weights).sum(), inputs)
    for g, g_r in zip(torch.autograd.grad((h * weights).sum(), inputs), g_ref, strict=True):
        torch.testing.assert_close(g, g_r, rtol=1e-7, atol=1e-9)


def test_mlstm_kernel_state_round_trip_continues_a_sequence():
    """Prefill through the kernel from a reference state, then reference steps: == reference."""
    q, k, v, igate, fgate = (x.detach() for x in mlstm_inputs(S=96, seed=1))
    first = [x[:, :, :32] for x in (q, k, v, igate, fgate)]
    middle = [x[:, :, 32:95] for x in (q, k, v, igate, fgate)]
    middle_kernel = [x[:, :, 32:64] for x in (q, k, v, igate, fgate)]
    h_full, _ = mlstm_chunkwise(q, k, v, igate, fgate, chunk_size=16)
    _, state = mlstm_chunkwise(*first, chunk_size=16)
    h_mid, state = NATIVE_CHUNKWISE(*middle_kernel, initial_state=state, chunk_size=32)
    torch.testing.assert_close(h_mid, h_full[:, :, 32:64], rtol=1e-9, atol=1e-9)
    h_rest, _ = mlstm_chunkwise(*[x[:, :, 32:] for x in middle], chunk_size=16, initial_state=state)
    torch.testing.assert_close(h_rest, h_full[:, :, 64:95], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("empty", [True, False])
def test_mlstm_step_kernel_mapping_matches_the_reference_step(empty):
    q, k, v, igate, fgate = (x.detach() for x in mlstm_inputs(S=20, seed=2))
    if empty:
        state = mlstm_empty_state(B, NH, DH, dtype=torch.float64)
    else:
        _, state = mlstm_chunkwise(*(x[:, :, :19] for x in (q, k, v, igate, fgate)))
    step_inputs = [x[:, :, 19:] for x in (q, k, v, igate, fgate)]
    h_ref, state_ref = mlstm_recurrent_step(*step_inputs, state=state, eps=0.0)
    h, new_state = NATIVE_STEP(*step_inputs, state=state, eps=0.0)
    torch.testing.assert_close(h, h_ref, rtol=1e-9, atol=1e-9)
    for ours, ref in zip(unstabilized(new_state), unstabilized(state_ref), strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)


def test_kernel_chunk_size_needs_a_multiple_of_64():
    assert kernel_chunk_size(512) == 128
    assert kernel_chunk_size(192) == 64
    assert kernel_chunk_size(100) is None
    with pytest.raises(ValueError, match="not a multiple"):
        NATIVE_CHUNKWISE(*mlstm_inputs(S=100))


@pytest.fixture
def fake_cuda(monkeypatch):
    """Every tensor counts as CUDA for the dispatch; kernel statuses start empty."""
    kernels.reset_for_tests()
    monkeypatch.setattr(kernels, "_on_cuda", lambda tensor: True)
    yield
    kernels.reset_for_tests()


def test_on_cpu_no_kernel_is_asked_for():
    kernels.reset_for_tests()
    assert not kernels.use_kernel("mlstm", torch.zeros(1), "auto")
    assert kernels.kernel_report("cpu") == {
        "mlstm": "torch: cpu device",
        "slstm": "torch: cpu device",
    }


def test_missing_kernel_falls_back_with_one_warning(fake_cuda, monkeypatch, caplog):
    def missing() -> str:
        raise ImportError("No module named 'triton'")

    monkeypatch.setitem(kernels._LOADERS, "mlstm", missing)
    with caplog.at_level(logging.WARNING, logger="xlstm_model.kernels"):
        assert not kernels.use_kernel("mlstm", torch.zeros(1), "auto")
        assert not kernels.use_kernel("mlstm", torch.zeros(1), "auto")
    assert len(caplog.records) == 1
    assert "mlstm kernel unavailable (ImportError: No module named 'triton')" in caplog.text
    report = kernels.kernel_report("cuda")
    assert report["mlstm"] == "torch: ImportError: No module named 'triton'"
    assert kernels.kernel_report("cuda", mode="torch")["mlstm"] == "torch: kernels='torch'"


def test_kernels_torch_never_loads_a_kernel(fake_cuda, monkeypatch):
    monkeypatch.setitem(kernels._LOADERS, "mlstm", lambda: pytest.fail("loaded"))
    assert not kernels.use_kernel("mlstm", torch.zeros(1), "torch")


def tiny_model(**overrides) -> XLSTMLM:
    config = XLSTMConfig(
        vocab_size=50, embedding_dim=32, num_blocks=2, num_heads=4, slstm_at=[1], **overrides
    )
    torch.manual_seed(0)
    model = XLSTMLM(config).double()
    for p in model.parameters():  # leave the zero/one inits: every weight takes part
        p.data.add_(0.1 * torch.randn_like(p))
    return model


def emulated_slstm_function(hidden_size: int, num_heads: int, dtype: str):
    """The official CUDA kernel's contract on CPU, built from the official package itself: its
    sLSTMCell_cuda layout conversions back to the external layout, then its vanilla cell's."""
    from xlstm.blocks.slstm.cell import sLSTMCell_cuda, sLSTMCell_vanilla, sLSTMCellConfig
    from xlstm.blocks.slstm.src.vanilla import slstm_forward, slstm_pointwise_function_registry

    config = sLSTMCellConfig(hidden_size=hidden_size, num_heads=num_heads, backend="cuda")
    cuda_cell = sLSTMCell_cuda(config, skip_backend_init=True)
    vanilla_cell = sLSTMCell_vanilla(sLSTMCellConfig(hidden_size=hidden_size, num_heads=num_heads))
    DH = hidden_size // num_heads

    class Emulated:
        @staticmethod
        def apply(training, wx, states, R, b):
            S, Bt, _ = wx.shape  # "SBNGH" -> the vanilla "SBGNH"
            wx = wx.reshape(S, Bt, num_heads, 4, DH).transpose(2, 3).reshape(S, Bt, -1)
            R = vanilla_cell._recurrent_kernel_ext2int(cuda_cell._recurrent_kernel_int2ext(R))
            b = vanilla_cell._bias_ext2int(cuda_cell._bias_int2ext(b))
            pointwise = slstm_pointwise_function_registry["slstm"]
            return slstm_forward(wx, states, R, b, pointwise)[0]

    return Emulated


def test_slstm_kernel_layouts_match_the_pytorch_cell(fake_cuda, monkeypatch):
    monkeypatch.setitem(kernels._LOADERS, "slstm", lambda: "emulated")
    monkeypatch.setitem(kernels._LOADERS, "mlstm", lambda: "native")
    model = tiny_model()
    idx = torch.randint(0, 50, (3, 64))
    logits_ref, _ = tiny_model(kernels="torch")(idx)
    with monkeypatch.context() as mp:
        mp.setattr("xlstm_model.slstm_kernel.slstm_kernel_function", emulated_slstm_function)
        mp.setattr(slstm, "slstm_kernel_function", emulated_slstm_function)
        mp.setattr(slstm, "kernel_dtype", lambda wx: "float64")  # the emulation takes float64
        mp.setattr("xlstm_model.slstm_kernel.kernel_dtype", lambda wx: "float64")
        mp.setattr(mlstm, "mlstm_chunkwise_kernel", NATIVE_CHUNKWISE)
        mp.setattr(mlstm, "mlstm_step_kernel", NATIVE_STEP)
        logits, loss = model(idx, idx)
        # the kernel's stabilizer starts at m = 0, not -inf: h differs by the eps term (~1e-6)
        torch.testing.assert_close(logits, logits_ref, rtol=1e-5, atol=1e-6)
        loss.backward()
        logits_step, state = model.prefill(idx[:, :40])
        for t in range(40, 64):
            logits_step, state = model.step(idx[:, t], state)
    model_ref = tiny_model(kernels="torch")
    model_ref(idx, idx)[1].backward()
    for (name, p), p_ref in zip(model.named_parameters(), model_ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-6, atol=1e-8, msg=name)
    torch.testing.assert_close(logits_step, logits_ref[:, -1], rtol=1e-6, atol=1e-6)


def test_slstm_build_failure_falls_back_to_the_loop(fake_cuda, monkeypatch, caplog):
    monkeypatch.setitem(kernels._LOADERS, "slstm", lambda: "would build")
    monkeypatch.setitem(kernels._LOADERS, "mlstm", lambda: "native")

    def broken_build(*args):
        raise RuntimeError("Error building extension 'slstm'")

    monkeypatch.setattr(slstm, "slstm_kernel_function", broken_build)
    monkeypatch.setattr(slstm, "kernel_dtype", lambda wx: "float64")
    monkeypatch.setattr(mlstm, "mlstm_chunkwise_kernel", NATIVE_CHUNKWISE)
    idx = torch.randint(0, 50, (2, 64))
    with caplog.at_level(logging.WARNING, logger="xlstm_model.kernels"):
        logits, _ = tiny_model()(idx)
        tiny_model()(idx)
    torch.testing.assert_close(logits, tiny_model(kernels="torch")(idx)[0], rtol=1e-5, atol=1e-6)
    assert len(caplog.records) == 1
    report = kernels.kernel_report("cuda")["slstm"]
    assert report == "torch: build failed: RuntimeError: Error building extension 'slstm'"


@pytest.mark.gpu
def test_cuda_kernels_match_the_reference_in_float32():
    kernels.reset_for_tests()
    model = tiny_model().float().cuda()
    ref = tiny_model(kernels="torch").float().cuda()
    idx = torch.randint(0, 50, (4, 128), device="cuda")
    logits, loss = model(idx, idx)
    logits_ref, loss_ref = ref(idx, idx)
    assert kernels.kernel_report("cuda")["mlstm"].startswith("kernel")
    assert kernels.kernel_report("cuda")["slstm"].startswith("kernel")
    error = (logits - logits_ref).norm() / logits_ref.norm()
    assert error < 1e-3  # Triton's float32 dots run in tf32
    loss.backward()
    loss_ref.backward()
    for p, p_ref in zip(model.parameters(), ref.parameters(), strict=True):
        assert (p.grad - p_ref.grad).norm() <= 1e-2 * p_ref.grad.norm() + 1e-6
    assert math.isfinite(loss.item())


def test_no_nvcc_is_a_load_error_naming_it(monkeypatch):
    import torch.utils.cpp_extension as cpp_extension

    monkeypatch.setattr(cpp_extension, "CUDA_HOME", None)
    monkeypatch.setattr(kernels.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="nvcc not found"):
        kernels.require_nvcc()
