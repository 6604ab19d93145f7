from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from xlstm_model.checkpoint import (
    atomic_write_json,
    flatten_optimizer,
    has_checkpoint,
    load_run,
    load_tensors,
    replace_dir,
    save_tensors,
    unflatten_optimizer,
)
from xlstm_model.errors import ModelError


@pytest.fixture
def run_copy(tiny_run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_run_dir, tmp_path / "run"))


def test_run_layout_holds_only_safetensors_json_and_png(tiny_run_dir: Path) -> None:
    names = {p.relative_to(tiny_run_dir).as_posix() for p in tiny_run_dir.rglob("*") if p.is_file()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "metrics.json",
        "loss.png",
        "last/model.safetensors",
        "last/optimizer.safetensors",
        "last/trainer_state.json",
    } <= names
    assert all(n.endswith((".json", ".jsonl", ".safetensors", ".png")) for n in names)
    assert has_checkpoint(tiny_run_dir)


def test_load_run_gives_an_eval_model_and_its_card(tiny_run) -> None:
    assert not tiny_run.model.training
    meta = tiny_run.meta
    assert meta["params"] == sum(p.numel() for p in tiny_run.model.parameters())
    assert meta["tokens_seen"] > 0 and meta["val_ppl"] > 1 and meta["train_wall_s"] >= 0
    assert meta["step"] == 8 and meta["preset"] == "tiny"
    assert tiny_run.config.vocab_size == tiny_run.tokenizer.vocab_size


def test_missing_run_is_a_one_line_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no trained model") as info:
        load_run(tmp_path / "nowhere")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("payload", [b"", b"garbage bytes", b"\xff" * 64])
def test_corrupt_weights_are_a_model_error(run_copy: Path, payload: bytes) -> None:
    (run_copy / "model.safetensors").write_bytes(payload)
    with pytest.raises(ModelError, match="corrupt checkpoint"):
        load_run(run_copy)


def test_truncated_weights_are_a_model_error(run_copy: Path) -> None:
    path = run_copy / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match="corrupt checkpoint"):
        load_run(run_copy)


def test_missing_weights_are_a_model_error(run_copy: Path) -> None:
    (run_copy / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no checkpoint"):
        load_run(run_copy)


def test_weights_that_do_not_match_the_config_are_a_model_error(run_copy: Path) -> None:
    tensors, meta = load_tensors(run_copy / "model.safetensors")
    name = next(iter(tensors))
    tensors[name] = torch.zeros(3, 3)
    tensors["extra.weight"] = torch.zeros(2)
    save_tensors(run_copy / "model.safetensors", tensors, meta)
    with pytest.raises(ModelError, match="do not match the config") as info:
        load_run(run_copy)
    assert "extra.weight" in str(info.value) and name in str(info.value)


def test_a_config_of_another_size_is_a_model_error(run_copy: Path) -> None:
    config = json.loads((run_copy / "config.json").read_text())
    config["model"]["embedding_dim"] *= 2
    atomic_write_json(run_copy / "config.json", config)
    with pytest.raises(ModelError, match="do not match the config"):
        load_run(run_copy)


def test_missing_tokenizer_is_a_model_error(run_copy: Path) -> None:
    (run_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="no tokenizer"):
        load_run(run_copy)


@pytest.mark.parametrize("text", ["{broken", "[1, 2]"])
def test_corrupt_config_is_a_model_error(run_copy: Path, text: str) -> None:
    (run_copy / "config.json").write_text(text)
    with pytest.raises(ModelError, match="corrupt run config"):
        load_run(run_copy)


def test_safetensors_metadata_round_trips_as_json(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    save_tensors(path, {"a": torch.arange(3.0)}, {"step": 7, "val_ppl": 1.5, "name": "x"})
    tensors, meta = load_tensors(path)
    assert torch.equal(tensors["a"], torch.arange(3.0))
    assert meta == {"step": 7, "val_ppl": 1.5, "name": "x"}
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]


def test_replace_dir_swaps_whole_folders(tmp_path: Path) -> None:
    final, new = tmp_path / "last", tmp_path / "new"
    final.mkdir()
    (final / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    replace_dir(new, final)
    assert (final / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]


def test_optimizer_state_flattens_and_restores_exactly() -> None:
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.8, 0.9))
    model(torch.randn(5, 4)).sum().backward()
    optimizer.step()
    tensors, rest = flatten_optimizer(optimizer)
    json.dumps(rest)  # the non-tensor part is plain JSON
    clone = torch.optim.AdamW(torch.nn.Linear(4, 3).parameters(), lr=1.0)
    clone.load_state_dict(unflatten_optimizer(tensors, json.loads(json.dumps(rest))))
    original, restored = optimizer.state_dict(), clone.state_dict()
    assert original["param_groups"] == restored["param_groups"]
    for key, state in original["state"].items():
        for name, value in state.items():
            assert torch.equal(value, restored["state"][key][name])


def test_a_tokenizer_from_another_run_is_a_model_error(run_copy: Path) -> None:
    from xlstm_model.tokenizer import Tokenizer, train_tokenizer

    vocab = Tokenizer.from_file(run_copy / "tokenizer.json").vocab_size
    other = train_tokenizer(["completely different text about birds and trees"] * 50, vocab)
    other.save(run_copy / "tokenizer.json")
    with pytest.raises(ModelError, match="not trained with these weights"):
        load_run(run_copy)
