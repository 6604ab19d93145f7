"""sLSTM: head isolation of the memory mixing, sequence form == step form, stability."""

from __future__ import annotations

import math

import pytest
import torch

from xlstm_model.config import XLSTMConfig
from xlstm_model.slstm import SLSTMBlock, SLSTMLayer, slstm_pointwise, slstm_recurrence

NH, S, B, DH = 4, 12, 3, 5


def random_recurrence_inputs(seed=0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    wx = scale * torch.randn(NH, S, B, 4 * DH, generator=gen)
    R = 0.5 * torch.randn(NH, DH, 4 * DH, generator=gen)  # dense inside each head
    state = (
        *(torch.zeros(NH, B, DH) for _ in range(3)),
        torch.full((NH, B, DH), -math.inf),
    )
    return wx, R, state


def randomize(module: torch.nn.Module, seed: int = 0) -> None:
    """Perturbs every parameter, so zero-initialised recurrent weights take part too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))


@pytest.mark.parametrize("exp_forget", [False, True])
def test_recurrence_does_not_mix_heads(exp_forget):
    """Changing head 0's gate inputs at step t changes head 0 from t on and no other head, ever."""
    wx, R, state = random_recurrence_inputs()
    h, _ = slstm_recurrence(wx, R, state, exp_forget)  # (NH, S, B, DH)
    t = 4
    wx_perturbed = wx.clone()
    wx_perturbed[0, t] += torch.randn(B, 4 * DH)
    h_perturbed, _ = slstm_recurrence(wx_perturbed, R, state, exp_forget)
    assert torch.equal(h_perturbed[1:], h[1:])  # other heads: bit-identical at every step
    assert torch.equal(h_perturbed[0, :t], h[0, :t])  # head 0 before t: unchanged (causal)
    assert (h_perturbed[0, t:] - h[0, t:]).abs().amax(dim=(1, 2)).min() > 1e-6  # then changed


def test_layer_does_not_mix_heads():
    """Perturbing one head's input channels leaves the other heads' output channels unchanged."""
    config = XLSTMConfig(embedding_dim=NH * DH, num_heads=NH, num_blocks=1, slstm_at=[0])
    layer = SLSTMLayer(config, block_idx=0)
    randomize(layer)
    x = torch.randn(B, S, NH * DH)
    y, _ = layer(x)
    x_perturbed = x.clone()
    x_perturbed[:, 3, DH : 2 * DH] += 1.0  # head 1, step 3
    y_perturbed, _ = layer(x_perturbed)
    changed = (y_perturbed - y).abs().reshape(B, S, NH, DH).amax(dim=(0, 3))  # (S, NH)
    assert torch.equal(changed[:, [0, 2, 3]], torch.zeros(S, 3))
    assert torch.equal(changed[:3, 1], torch.zeros(3))
    assert (changed[3:, 1] > 0).all()


def test_pointwise_matches_the_paper_equations_unstabilized():
    """The stabilized step equals eqs. (8)-(14) computed without the stabilizer."""
    gen = torch.Generator().manual_seed(1)
    raw = torch.randn(2, 4 * DH, generator=gen)
    c_prev, n_prev = torch.randn(2, DH, generator=gen), torch.rand(2, DH, generator=gen) + 1
    m_prev = torch.randn(2, DH, generator=gen)
    h, c, n, m = slstm_pointwise(raw, c_prev, n_prev, m_prev, exp_forget=False)
    i_pre, f_pre, z_pre, o_pre = raw.chunk(4, dim=-1)
    # unstabilized states are the stabilized ones times exp(m)
    c_true = torch.sigmoid(f_pre) * c_prev * m_prev.exp() + i_pre.exp() * torch.tanh(z_pre)
    n_true = torch.sigmoid(f_pre) * n_prev * m_prev.exp() + i_pre.exp()
    torch.testing.assert_close(c * m.exp(), c_true)
    torch.testing.assert_close(n * m.exp(), n_true)
    torch.testing.assert_close(h, torch.sigmoid(o_pre) * c_true / n_true)


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exp"])
def test_block_sequence_equals_steps_with_carried_state(forget_gate):
    config = XLSTMConfig(
        embedding_dim=16, num_heads=4, num_blocks=2, slstm_at=[1], slstm_forget_gate=forget_gate
    )
    block = SLSTMBlock(config, block_idx=1).double()
    randomize(block)
    x = torch.randn(B, S, 16, dtype=torch.float64)
    y, last_state = block(x)
    state = block.empty_state(B, dtype=torch.float64)
    steps = []
    for t in range(S):
        y_t, state = block.step(x[:, t], state)
        steps.append(y_t)
    torch.testing.assert_close(torch.stack(steps, dim=1), y)
    for name, value in last_state.items():
        torch.testing.assert_close(state[name], value, msg=name)
    y_tail, _ = block(x[:, 5:], block(x[:, :5])[1])  # two sequence calls, state carried
    torch.testing.assert_close(y_tail, y[:, 5:])


def test_extreme_gates_stay_finite_and_normalizer_at_least_one():
    wx, R, state = random_recurrence_inputs(seed=2, scale=50.0)
    wx, R = wx.requires_grad_(), R.requires_grad_()
    h, (_, _, n_state, _) = slstm_recurrence(wx, R, state, exp_forget=False)
    assert torch.isfinite(h).all()
    assert (n_state >= 1 - 1e-6).all()
    h.sum().backward()
    assert torch.isfinite(wx.grad).all() and torch.isfinite(R.grad).all()
