"""XLSTMLM and XLSTMConfig: whole sequence == prefill + steps == steps, config round trip,
initialisation, loss masking, generation and fitting one batch."""

from __future__ import annotations

import json

import pytest
import torch

from xlstm_model import PRESETS, XLSTMLM, XLSTMConfig, config_from_preset, flops_per_token
from xlstm_model.generate import next_token

SMALL = dict(
    vocab_size=40,
    embedding_dim=16,
    num_blocks=3,
    num_heads=4,
    slstm_at=[1],
    mlstm_chunk_size=4,
    proj_round_to=16,
)


def make_model(seed: int = 0, **overrides) -> XLSTMLM:
    """A small mLSTM-sLSTM-mLSTM model in float64 with all parameters perturbed."""
    torch.manual_seed(seed)
    model = XLSTMLM(XLSTMConfig(**{**SMALL, **overrides})).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


def tokens(B=2, S=19, vocab=40, seed=1) -> torch.Tensor:
    return torch.randint(0, vocab, (B, S), generator=torch.Generator().manual_seed(seed))


def test_forward_equals_token_by_token_steps():
    model, idx = make_model(), tokens()
    logits, loss = model(idx)
    assert logits.shape == (2, 19, 40) and loss is None
    state = model.init_state(2)
    step_logits = []
    for t in range(idx.shape[1]):
        out, state = model.step(idx[:, t], state)
        step_logits.append(out)
    torch.testing.assert_close(torch.stack(step_logits, dim=1), logits)


@pytest.mark.parametrize("split", [1, 7, 12])
def test_prefill_then_step_equals_forward(split):
    model, idx = make_model(), tokens()
    logits, _ = model(idx)
    last, state = model.prefill(idx[:, :split])
    torch.testing.assert_close(last, logits[:, split - 1])
    for t in range(split, idx.shape[1]):
        out, state = model.step(idx[:, t : t + 1], state)  # (B, 1) ids are accepted too
        torch.testing.assert_close(out, logits[:, t])
    last, _ = model.prefill(idx[:, split:], model.prefill(idx[:, :split])[1])  # chained
    torch.testing.assert_close(last, logits[:, -1])


def test_step_does_not_modify_the_given_state():
    model, idx = make_model(), tokens()
    _, state = model.prefill(idx)
    before = [{k: v.clone() for k, v in s.items()} for s in state]
    model.step(idx[:, 0], state)
    for s, b in zip(state, before, strict=True):
        assert all(torch.equal(s[k], b[k]) for k in s)


def test_parallel_and_chunkwise_backends_agree():
    idx = tokens(S=23)
    chunkwise, _ = make_model(mlstm_backend="chunkwise")(idx)
    parallel, _ = make_model(mlstm_backend="parallel")(idx)
    torch.testing.assert_close(chunkwise, parallel)


def test_loss_is_cross_entropy_ignoring_minus_100():
    model, idx = make_model(), tokens()
    targets = tokens(seed=2)
    targets[:, :5] = -100
    logits, loss = model(idx, targets)
    kept_logits, kept_targets = logits[:, 5:].reshape(-1, 40), targets[:, 5:].reshape(-1)
    expected = torch.nn.functional.cross_entropy(kept_logits, kept_targets)
    torch.testing.assert_close(loss, expected)


@torch.no_grad()
def _decode(model, idx: torch.Tensor, new_tokens: int, **sampling) -> torch.Tensor:
    """prefill, then step token by token with `generate.next_token` (what `stream` does)."""
    logits, state = model.prefill(idx)
    out = [idx]
    for _ in range(new_tokens):
        nxt = torch.tensor([[next_token(row, **sampling)] for row in logits])  # (B, 1)
        out.append(nxt)
        logits, state = model.step(nxt, state)
    return torch.cat(out, dim=1)


def test_greedy_decoding_follows_the_argmax_of_forward():
    model, idx = make_model(), tokens(S=6)
    out = _decode(model, idx, 5)
    assert out.shape == (2, 11) and torch.equal(out[:, :6], idx)
    logits, _ = model(out[:, :-1])
    assert torch.equal(out[:, 6:], logits[:, 5:].argmax(dim=-1))
    sampled = _decode(model, idx, 3, temperature=0.8, top_k=1)
    assert torch.equal(sampled, out[:, :9])  # top_k=1 is greedy


def test_config_round_trips_through_json_and_rejects_unknown_keys():
    config = XLSTMConfig(**SMALL, slstm_forget_gate="exp", tie_weights=True)
    restored = XLSTMConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert XLSTMConfig.from_dict({"vocab_size": 7}).vocab_size == 7  # missing keys default
    with pytest.raises(ValueError, match="unknown XLSTMConfig keys.*colour"):
        XLSTMConfig.from_dict({**config.to_dict(), "colour": "red"})


@pytest.mark.parametrize(
    "bad",
    [
        dict(embedding_dim=30, num_heads=4),
        dict(slstm_at=[5], num_blocks=2),
        dict(mlstm_backend="cuda"),
        dict(slstm_forget_gate="tanh"),
    ],
)
def test_invalid_configs_raise_value_error(bad):
    with pytest.raises(ValueError, match="invalid XLSTMConfig"):
        XLSTMConfig(**bad)


def test_presets_build_and_default_fits_a_cpu():
    assert set(PRESETS) == {"tiny", "default", "gpu-small", "gpu", "gpu-medium"}
    default = config_from_preset("default")
    assert 1e6 <= XLSTMLM(default).num_params() <= 4e6
    assert default.block_types().count("slstm") >= 1
    assert config_from_preset("tiny", vocab_size=99).vocab_size == 99
    with pytest.raises(ValueError, match="unknown model preset"):
        config_from_preset("huge")
    params = XLSTMLM(default).num_params()
    assert 4 * params < flops_per_token(default) < 12 * params


def test_initialisation_follows_the_official_package():
    model = XLSTMLM(XLSTMConfig(**SMALL))
    gates = model.blocks[0].layer.cell.gates  # rows [igate (NH); fgate (NH)]
    torch.testing.assert_close(gates.bias.data[4:], torch.linspace(3.0, 6.0, 4))
    assert torch.equal(gates.weight, torch.zeros_like(gates.weight))
    slstm_cell = model.blocks[1].layer.cell
    assert torch.equal(slstm_cell.recurrent_kernel, torch.zeros_like(slstm_cell.recurrent_kernel))
    fgate_bias = slstm_cell.bias[:, 4:8]  # (NH, DH) of [i | f | z | o]
    assert fgate_bias[:, 0].eq(5.0).all() and fgate_bias[:, -1].eq(-7.0).all()


def test_tied_weights_share_one_matrix():
    model = XLSTMLM(XLSTMConfig(**SMALL, tie_weights=True))
    assert model.lm_head.weight is model.token_embedding.weight
    untied = XLSTMLM(XLSTMConfig(**SMALL))
    assert untied.num_params() - model.num_params() == 40 * 16


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    config = XLSTMConfig(**{**SMALL, "embedding_dim": 32, "num_blocks": 2})
    model = XLSTMLM(config).train()
    idx = tokens(B=4, S=17, seed=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-2, weight_decay=0.0)
    for _ in range(50):
        _, loss = model(idx[:, :-1], idx[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
