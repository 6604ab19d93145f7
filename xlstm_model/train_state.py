"""Resume checkpoints (`<run>/last/`): model, optimizer and RNG as safetensors, the rest as JSON."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from xlstm_model.checkpoint import (
    MODEL_FILE,
    OPTIMIZER_FILE,
    TRAINER_STATE_FILE,
    atomic_write_json,
    last_dir,
    load_tensors,
    load_weights,
    read_json,
    replace_dir,
    save_tensors,
)
from xlstm_model.errors import ModelError

RNG_CPU = "rng.torch_cpu"
RNG_CUDA = "rng.torch_cuda"


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
