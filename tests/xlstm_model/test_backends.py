"""The three mLSTM forms (parallel, chunkwise, recurrent) agree: outputs, gradients, states."""

from __future__ import annotations

import math

import pytest
import torch

from xlstm_model.backends import (
    mlstm_chunkwise,
    mlstm_empty_state,
    mlstm_parallel,
    mlstm_recurrent,
    mlstm_recurrent_step,
)


def make_inputs(B=2, NH=3, S=50, DH=8, seed=0, dtype=torch.float32, gate_scale=3.0):
    """q, k, v (B, NH, S, DH), igate/fgate pre-activations (B, NH, S, 1), requiring grad."""
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, NH, S, DH, generator=gen, dtype=dtype) for _ in range(3))
    igate = gate_scale * torch.randn(B, NH, S, 1, generator=gen, dtype=dtype)
    fgate = gate_scale * torch.randn(B, NH, S, 1, generator=gen, dtype=dtype) + 2.0
    return [x.requires_grad_() for x in (q, k, v, igate, fgate)]


def grads(inputs, out):
    """d(sum(out * fixed random weights)) / d(inputs)."""
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(out.dtype)
    return torch.autograd.grad((out * weights).sum(), inputs)


def assert_close(a, b, tol=2e-5):
    """Equal up to float32 rounding: tolerance relative to the largest magnitude in b."""
    assert torch.isfinite(a).all() and torch.isfinite(b).all()
    torch.testing.assert_close(a, b, rtol=tol, atol=tol * max(1.0, b.abs().max().item()))


@pytest.mark.parametrize(("S", "chunk_size"), [(1, 16), (16, 16), (50, 16), (64, 64), (77, 32)])
def test_three_forms_agree_forward_and_gradients(S, chunk_size):
    inputs = make_inputs(S=S)
    h_parallel = mlstm_parallel(*inputs)
    h_chunkwise, _ = mlstm_chunkwise(*inputs, chunk_size=chunk_size)
    h_recurrent, _ = mlstm_recurrent(*inputs)
    assert h_parallel.shape == (2, 3, S, 8)
    assert_close(h_chunkwise, h_parallel)
    assert_close(h_recurrent, h_parallel)
    g_parallel = grads(inputs, h_parallel)
    for h in (h_chunkwise, h_recurrent):
        for g, g_ref in zip(grads(inputs, h), g_parallel, strict=True):
            assert_close(g, g_ref, tol=1e-4)


def test_three_forms_agree_tightly_in_float64():
    inputs = make_inputs(S=45, dtype=torch.float64)
    h_parallel = mlstm_parallel(*inputs)
    torch.testing.assert_close(mlstm_chunkwise(*inputs, chunk_size=8)[0], h_parallel)
    torch.testing.assert_close(mlstm_recurrent(*inputs)[0], h_parallel)


def test_chunkwise_last_state_equals_recurrent_state():
    inputs = make_inputs(S=70)
    _, state_chunkwise = mlstm_chunkwise(*inputs, chunk_size=16)
    _, state_recurrent = mlstm_recurrent(*inputs)
    for name, a, b in zip(("c", "n", "m"), state_chunkwise, state_recurrent, strict=True):
        assert a.shape == b.shape, name
        assert_close(a, b)


@pytest.mark.parametrize("split", [1, 16, 21, 48])
def test_chunkwise_carries_state_across_calls(split):
    """Prefill-style: the sequence in two calls with the state carried == one call."""
    q, k, v, igate, fgate = make_inputs(S=60)
    h_full, state_full = mlstm_chunkwise(q, k, v, igate, fgate, 16)
    first = [x[:, :, :split] for x in (q, k, v, igate, fgate)]
    rest = [x[:, :, split:] for x in (q, k, v, igate, fgate)]
    h1, state = mlstm_chunkwise(*first, chunk_size=16)
    h2, state = mlstm_chunkwise(*rest, chunk_size=16, initial_state=state)
    assert_close(torch.cat([h1, h2], dim=2), h_full)
    for a, b in zip(state, state_full, strict=True):
        assert_close(a, b)
    h2_recurrent, _ = mlstm_recurrent(
        *rest, initial_state=mlstm_chunkwise(*first, chunk_size=16)[1]
    )
    assert_close(h2_recurrent, h_full[:, :, split:])


def test_gradients_flow_into_the_initial_state():
    q, k, v, igate, fgate = make_inputs(S=40)
    _, state = mlstm_recurrent(*(x[:, :, :10].detach() for x in (q, k, v, igate, fgate)))
    c_state, n_state, m_state = (s.clone().requires_grad_() for s in state)
    rest = [x[:, :, 10:] for x in (q, k, v, igate, fgate)]
    h_chunk, _ = mlstm_chunkwise(*rest, chunk_size=8, initial_state=(c_state, n_state, m_state))
    h_rec, _ = mlstm_recurrent(*rest, initial_state=(c_state, n_state, m_state))
    inputs = [*rest, c_state, n_state]
    for g, g_ref in zip(grads(inputs, h_chunk), grads(inputs, h_rec), strict=True):
        assert_close(g, g_ref, tol=1e-4)


def test_recurrent_step_shapes_and_purity():
    q, k, v, igate, fgate = (x.detach()[:, :, :1] for x in make_inputs(S=1))
    state = mlstm_empty_state(2, 3, 8)
    copies = [x.clone() for x in (q, k, v, *state)]
    h, (c_state, n_state, m_state) = mlstm_recurrent_step(q, k, v, igate, fgate, state)
    assert h.shape == (2, 3, 1, 8)
    assert c_state.shape == (2, 3, 8, 8)
    assert n_state.shape == (2, 3, 8, 1)
    assert m_state.shape == (2, 3, 1, 1)
    for before, after in zip(copies, (q, k, v, *state), strict=True):
        assert torch.equal(before, after)  # inputs are not modified in place
    torch.testing.assert_close(m_state, igate)  # first step: m = i


def test_extreme_gates_on_a_long_sequence_stay_finite():
    """Gate pre-activations of +-50 over 4096 tokens: outputs and gradients finite."""
    B, NH, S, DH = 1, 2, 4096, 4
    gen = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(B, NH, S, DH, generator=gen) for _ in range(3))
    signs = torch.randint(0, 2, (2, B, NH, S, 1), generator=gen) * 2.0 - 1.0
    igate, fgate = 50.0 * signs[0], 50.0 * signs[1]
    inputs = [x.requires_grad_() for x in (q, k, v, igate, fgate)]
    h, state = mlstm_chunkwise(*inputs, chunk_size=64)
    assert torch.isfinite(h).all()
    assert all(torch.isfinite(s).all() for s in state)
    for g in grads(inputs, h):
        assert torch.isfinite(g).all()
    h_parallel = mlstm_parallel(*(x[:, :, :256] for x in inputs))
    assert_close(h[:, :, :256], h_parallel, tol=1e-4)


def test_normalizer_lower_bound_is_one_unstabilized():
    """With tiny input gates the normalizer is max(|n^T q|, 1): h ~ C q in unstabilized units."""
    q, k, v, _, _ = (x.detach() for x in make_inputs(B=1, NH=1, S=1, DH=4))
    igate = torch.full((1, 1, 1, 1), math.log(1e-3))  # i = 0.001, so |n^T q| << 1
    fgate = torch.zeros(1, 1, 1, 1)
    h = mlstm_parallel(q, k, v, igate, fgate)
    expected = 1e-3 * (q @ k.transpose(-2, -1) / 2.0) @ v  # C q / 1, k scaled by 1/sqrt(4)
    torch.testing.assert_close(h, expected, rtol=1e-3, atol=1e-6)
