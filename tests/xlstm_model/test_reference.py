"""Cross-checks against the official NX-AI `xlstm` package (v2.0.6, a test-only dependency):
its mLSTM backends, its vanilla (CPU) sLSTM cell, and its mLSTM and sLSTM layers with our
weights mapped onto theirs."""

from __future__ import annotations

import torch
import xlstm as official  # pinned in requirements-dev: a broken install fails here, never skips
from xlstm.blocks.mlstm import backends as official_backends
from xlstm.blocks.slstm import cell as official_slstm_cell

from xlstm_model.backends import mlstm_chunkwise, mlstm_parallel, mlstm_recurrent_step
from xlstm_model.config import XLSTMConfig
from xlstm_model.mlstm import MLSTMLayer
from xlstm_model.slstm import SLSTMCell, SLSTMLayer

B, NH, S, DH = 2, 4, 24, 8


def mlstm_inputs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, NH, S, DH, generator=gen) for _ in range(3))
    igate = 2.0 * torch.randn(B, NH, S, 1, generator=gen)
    fgate = 2.0 * torch.randn(B, NH, S, 1, generator=gen) + 3.0
    return [x.requires_grad_() for x in (q, k, v, igate, fgate)]


def randomize(module: torch.nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))


def test_parallel_matches_official_parallel_stabilized_simple():
    inputs = mlstm_inputs()
    ours = mlstm_parallel(*inputs)
    theirs = official_backends.parallel_stabilized_simple(*inputs)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    weights = torch.randn(ours.shape)
    for g_ours, g_theirs in zip(
        torch.autograd.grad((ours * weights).sum(), inputs),
        torch.autograd.grad((theirs * weights).sum(), inputs),
        strict=True,
    ):
        torch.testing.assert_close(g_ours, g_theirs, rtol=1e-4, atol=1e-4)


def test_chunkwise_matches_official_parallel():
    inputs = mlstm_inputs(seed=1)
    theirs = official_backends.parallel_stabilized_simple(*inputs)
    torch.testing.assert_close(
        mlstm_chunkwise(*inputs, chunk_size=5)[0], theirs, rtol=1e-5, atol=1e-5
    )


def test_recurrent_step_matches_official_step_from_a_nonempty_state():
    gen = torch.Generator().manual_seed(2)
    c_state = torch.randn(B, NH, DH, DH, generator=gen)
    n_state = torch.randn(B, NH, DH, 1, generator=gen)
    m_state = torch.randn(B, NH, 1, 1, generator=gen)
    q, k, v, igate, fgate = (x.detach()[:, :, :1] for x in mlstm_inputs(seed=2))
    h, state = mlstm_recurrent_step(q, k, v, igate, fgate, (c_state, n_state, m_state))
    # the official step squeezes q, k, v in place: give it copies
    h_ref, state_ref = official_backends.recurrent_step_stabilized_simple(
        c_state, n_state, m_state, q.clone(), k.clone(), v.clone(), igate, fgate
    )
    torch.testing.assert_close(h, h_ref)
    for ours, theirs in zip(state, state_ref, strict=True):
        torch.testing.assert_close(ours, theirs)


def test_slstm_cell_matches_official_vanilla_cell():
    config = official_slstm_cell.sLSTMCellConfig(
        hidden_size=NH * DH, num_heads=NH, backend="vanilla", dtype="float32"
    )
    theirs = official_slstm_cell.sLSTMCell(config)
    randomize(theirs)  # its recurrent kernel starts at zero
    ours = SLSTMCell(XLSTMConfig(embedding_dim=NH * DH, num_heads=NH), block_idx=0)
    with torch.no_grad():  # external layouts: R (NH, DH_in, 4, DH_out), bias (NH, 4, DH)
        ours.recurrent_kernel.copy_(theirs.recurrent_kernel.clone().reshape(NH, DH, 4 * DH))
        ours.bias.copy_(theirs.bias.clone().reshape(NH, 4 * DH))
    gate_inputs = torch.randn(B, S, 4, NH, DH)  # [i, f, z, o] x heads, their input layout
    h_ref, state_ref = theirs(gate_inputs.reshape(B, S, -1))  # (B, NH, S, DH), (4, B, H)
    wx = gate_inputs.permute(3, 1, 0, 2, 4).reshape(NH, S, B, 4 * DH)  # (NH, S, B, 4*DH)
    h, state = ours(wx, None)  # (NH, S, B, DH)
    torch.testing.assert_close(h.permute(2, 0, 1, 3), h_ref)
    for i, name in enumerate(("h_state", "c_state", "n_state", "m_state")):
        torch.testing.assert_close(state[name], state_ref[i].reshape(B, NH, DH), msg=name)


def test_mlstm_layer_matches_official_layer_with_mapped_weights():
    E = 32
    theirs = official.mLSTMLayer(
        official.mLSTMLayerConfig(embedding_dim=E, num_heads=NH, context_length=S)
    )
    randomize(theirs)
    ours = MLSTMLayer(XLSTMConfig(embedding_dim=E, num_heads=NH, num_blocks=1, mlstm_chunk_size=5))
    cell, cat = theirs.mlstm_cell, torch.cat
    mapping = {
        "proj_up.weight": theirs.proj_up.weight,
        "qk_proj.weight": cat([theirs.q_proj.weight, theirs.k_proj.weight], dim=1),  # per block
        "v_proj.weight": theirs.v_proj.weight,
        "conv1d.weight": theirs.conv1d.conv.weight[:, 0, :],  # (D, 1, K) -> (D, K)
        "conv1d.bias": theirs.conv1d.conv.bias,
        "cell.gates.weight": cat([cell.igate.weight, cell.fgate.weight]),
        "cell.gates.bias": cat([cell.igate.bias, cell.fgate.bias]),
        "cell.outnorm.weight": cell.outnorm.weight_proxy,  # 1 + w
        "learnable_skip": theirs.learnable_skip,
        "proj_down.weight": theirs.proj_down.weight,
    }
    ours.load_state_dict({k: v.detach() for k, v in mapping.items()}, strict=True)
    x = torch.randn(B, S, E)
    torch.testing.assert_close(ours(x)[0], theirs(x), rtol=1e-4, atol=1e-5)


def test_slstm_layer_matches_official_layer_with_mapped_weights():
    E = NH * DH
    theirs = official.sLSTMLayer(
        official.sLSTMLayerConfig(embedding_dim=E, num_heads=NH, backend="vanilla", dtype="float32")
    )
    randomize(theirs)
    ours = SLSTMLayer(XLSTMConfig(embedding_dim=E, num_heads=NH, num_blocks=1), block_idx=0)
    cat = torch.cat
    # the official layer feeds its `fgate` projection to the input gate and `igate` to the forget
    # gate (names swapped in its forward); what matters is which weights meet which gate
    mapping = {
        "conv1d.weight": theirs.conv1d.conv.weight[:, 0, :],
        "conv1d.bias": theirs.conv1d.conv.bias,
        "if_proj.weight": cat([theirs.fgate.weight, theirs.igate.weight], dim=1),
        "zo_proj.weight": cat([theirs.zgate.weight, theirs.ogate.weight], dim=1),
        "cell.recurrent_kernel": theirs.slstm_cell.recurrent_kernel.clone().reshape(NH, DH, -1),
        "cell.bias": theirs.slstm_cell.bias.clone().reshape(NH, -1),
        "group_norm.weight": theirs.group_norm.weight_proxy,
    }
    ours.load_state_dict({k: v.detach() for k, v in mapping.items()}, strict=True)
    x = torch.randn(B, S, E)
    torch.testing.assert_close(ours(x)[0], theirs(x), rtol=1e-4, atol=1e-5)
