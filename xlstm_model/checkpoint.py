"""Run directories: atomic safetensors + JSON checkpoints, never pickle.

Layout of a run directory (`load_run` reads the best model; `save_last` / `load_last` the resume
checkpoint)::

    config.json         model config, training config, tokenizer info
    model.safetensors   best weights (metadata: step, tokens_seen, val_ppl, ...)
    tokenizer.json      the byte-level BPE
    last/               model.safetensors, optimizer.safetensors, trainer_state.json (for --resume)
    metrics.json, metrics.jsonl, loss.png
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from xlstm_model.devices import resolve_device
from xlstm_model.errors import ModelError
from xlstm_model.files import atomic_write, atomic_write_json
from xlstm_model.tokenizer import Tokenizer, tokenizer_fingerprint

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
OPTIMIZER_FILE = "optimizer.safetensors"
TRAINER_STATE_FILE = "trainer_state.json"
LAST_DIR = "last"
RUN_FORMAT = "xlstm-rag-run/1"
RNG_CPU = "rng.torch_cpu"
RNG_CUDA = "rng.torch_cuda"


@dataclass
class LoadedRun:
    """A trained model ready for generation and scoring."""

    model: torch.nn.Module
    tokenizer: Tokenizer
    config: Any  # XLSTMConfig
    meta: dict = field(default_factory=dict)
    run_dir: Path | None = None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict | None = None
) -> None:
    """Saves contiguous CPU copies as safetensors atomically; metadata values become strings."""
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    atomic_write(path, lambda tmp: save_file(flat, str(tmp), metadata=meta))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, metadata) from a safetensors file; ModelError when missing or corrupt."""
    if not path.is_file():
        msg = f"no checkpoint at {path}; train a model first (python -m xlstm_model.train)"
        raise ModelError(msg)
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            raw_meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        msg = f"corrupt checkpoint {path} ({str(e).splitlines()[0][:120]}); retrain the model"
        raise ModelError(msg) from e
    return tensors, {k: _json_or_str(v) for k, v in raw_meta.items()}


def _json_or_str(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        msg = f"no {what} at {path}; train a model first (python -m xlstm_model.train)"
        raise ModelError(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        msg = f"corrupt {what} {path} ({e.__class__.__name__}); retrain the model"
        raise ModelError(msg) from e
    if not isinstance(data, dict):
        msg = f"corrupt {what} {path} (not a JSON object); retrain the model"
        raise ModelError(msg)
    return data


def model_config_from_dict(data: dict) -> Any:
    """An XLSTMConfig from config.json's "model" entry; ModelError if it does not parse."""
    from xlstm_model.config import XLSTMConfig

    try:
        return XLSTMConfig.from_dict(data)
    except (TypeError, ValueError, KeyError) as e:
        msg = f"config.json holds an invalid model config ({str(e).splitlines()[0][:120]})"
        raise ModelError(msg) from e


def build_model(config: Any) -> torch.nn.Module:
    from xlstm_model.model import XLSTMLM

    try:
        return XLSTMLM(config)
    except (TypeError, ValueError, AssertionError) as e:
        msg = f"cannot build a model from the config ({str(e).splitlines()[0][:120]})"
        raise ModelError(msg) from e


def load_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], source: Path) -> None:
    """Loads `tensors` strictly; a one-line ModelError names what does not match."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = sorted(
        k
        for k in set(expected) & set(tensors)
        if tuple(expected[k].shape) != tuple(tensors[k].shape)
    )
    if missing or unexpected or shapes:
        parts = [
            f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", shapes))
            if keys
        ]
        msg = f"weights in {source} do not match the config ({'; '.join(parts)}); retrain the model"
        raise ModelError(msg)
    model.load_state_dict(tensors, strict=True)


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """Loads the best weights of a run directory in eval mode.

    Raises:
        ModelError: the run is missing, corrupt, or its parts disagree.
    """
    run_dir = Path(run_dir).expanduser()
    if not (run_dir / CONFIG_FILE).is_file() and not (run_dir / MODEL_FILE).is_file():
        msg = f"no trained model in {run_dir}; run `python -m xlstm_model.train --out {run_dir}`"
        raise ModelError(msg)
    run_config = read_json(run_dir / CONFIG_FILE, "run config")
    config = model_config_from_dict(run_config.get("model") or {})
    tokenizer = Tokenizer.from_file(run_dir / TOKENIZER_FILE)
    if tokenizer.vocab_size > config.vocab_size:
        msg = (
            f"tokenizer in {run_dir} has {tokenizer.vocab_size} tokens but the model only "
            f"{config.vocab_size}; the run directory mixes two runs"
        )
        raise ModelError(msg)
    tensors, meta = load_tensors(run_dir / MODEL_FILE)
    expected = meta.get("tokenizer_fingerprint")
    if expected and expected != tokenizer_fingerprint(tokenizer):
        msg = f"tokenizer.json in {run_dir} was not trained with these weights; retrain the model"
        raise ModelError(msg)
    model = build_model(config)
    load_weights(model, tensors, run_dir / MODEL_FILE)
    model.to(device).eval()
    meta = {**meta, "params": sum(p.numel() for p in model.parameters())}
    meta["training"] = run_config.get("training", {})
    return LoadedRun(model=model, tokenizer=tokenizer, config=config, meta=meta, run_dir=run_dir)


def has_checkpoint(run_dir: Path) -> bool:
    """True when `run_dir` holds a complete best model (what --if-missing checks)."""
    return all((run_dir / name).is_file() for name in (CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE))


def replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Swaps a fully written `tmp_dir` into `final_dir`; `<final>.old` survives a crash mid-way."""
    old = final_dir.with_name(final_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final_dir.exists():
        os.replace(final_dir, old)
    os.replace(tmp_dir, final_dir)
    shutil.rmtree(old, ignore_errors=True)


def last_dir(run_dir: Path) -> Path | None:
    """The newest complete resume checkpoint (last/, or last.old/ after a crash), if any."""
    for name in (LAST_DIR, LAST_DIR + ".old"):
        candidate = run_dir / name
        if (candidate / TRAINER_STATE_FILE).is_file():
            return candidate
    return None


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """`auto` → CUDA when visible, else CPU; `cuda` (on GPU `local_rank`) without CUDA is a
    one-line ModelError naming what torch found (see `devices.resolve_device`)."""
    device = resolve_device(name)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", local_rank)
    return device


# Resume checkpoints (`<run>/last/`): model, optimizer and RNG as safetensors, the rest as JSON.


def flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state as (tensors named state.<param>.<name>, JSON-able rest)."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, object] = {}
    for param_id, param_state in state_dict["state"].items():
        for name, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"state.{param_id}.{name}"] = value
            else:
                scalars[f"{param_id}.{name}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    """The inverse of `flatten_optimizer`: a state dict for `optimizer.load_state_dict`."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, param_id, name = key.split(".", 2)
            state.setdefault(int(param_id), {})[name] = value
    for key, value in rest.get("scalars", {}).items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    groups = [
        {**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in rest["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {RNG_CPU: torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors[RNG_CUDA] = torch.cuda.get_rng_state()
    return tensors


def restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if RNG_CPU in tensors:
        torch.set_rng_state(tensors[RNG_CPU])
    if RNG_CUDA in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors[RNG_CUDA])


def save_last(
    run_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, trainer_state: dict
) -> None:
    """Writes last/ as a whole: a temp folder swapped in, so a crash leaves the previous one."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".last.", dir=run_dir))
    tmp.chmod(0o755)  # mkdtemp makes 0700
    step = trainer_state["step"]
    save_tensors(tmp / MODEL_FILE, model.state_dict(), {"step": step})
    opt_tensors, opt_rest = flatten_optimizer(optimizer)
    save_tensors(tmp / OPTIMIZER_FILE, {**opt_tensors, **rng_tensors()}, {"step": step})
    atomic_write_json(tmp / TRAINER_STATE_FILE, {**trainer_state, "optimizer": opt_rest})
    replace_dir(tmp, run_dir / "last")


def load_last(run_dir: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Restores model, optimizer and RNG from last/; returns the trainer state.

    Raises:
        ModelError: there is no resume checkpoint, or it is corrupt or does not fit the model.
    """
    folder = last_dir(run_dir)
    if folder is None:
        msg = f"nothing to resume in {run_dir} (no last/trainer_state.json); drop --resume"
        raise ModelError(msg)
    state = read_json(folder / TRAINER_STATE_FILE, "trainer state")
    weights, weight_meta = load_tensors(folder / MODEL_FILE)
    opt_tensors, _ = load_tensors(folder / OPTIMIZER_FILE)
    if weight_meta.get("step") != state.get("step"):
        msg = f"resume checkpoint {folder} is inconsistent (model and state steps differ)"
        raise ModelError(msg)
    load_weights(model, weights, folder / MODEL_FILE)
    try:
        optimizer.load_state_dict(unflatten_optimizer(opt_tensors, state["optimizer"]))
    except (KeyError, ValueError, RuntimeError) as e:
        msg = f"optimizer state in {folder} does not fit the model ({type(e).__name__})"
        raise ModelError(msg) from e
    restore_rng(opt_tensors)
    return state
