"""Data-parallel set-up under torchrun (gloo on CPU, nccl on GPU) and device choice."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from xlstm_model.errors import ModelError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """`auto` → CUDA when visible, else CPU; `cuda` without a GPU is a ModelError."""
    if name not in ("auto", "cpu", "cuda"):
        msg = f"unknown --device {name!r}; use auto, cpu or cuda"
        raise ModelError(msg)
    has_cuda = torch.cuda.is_available()
    if name == "cuda" and not has_cuda:
        msg = "--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto"
        raise ModelError(msg)
    if name == "cpu" or not has_cuda:
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def env_rank() -> int:
    """This process's global rank as torchrun sets it (0 outside torchrun)."""
    return int(os.environ.get("RANK", "0"))


def init_distributed(device_name: str) -> tuple[DistInfo, torch.device]:
    """Joins the torchrun process group when WORLD_SIZE > 1; returns (info, device)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = env_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local_rank)
    info = DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)
    if not info.enabled:
        return info, device
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:  # share the cores instead of oversubscribing them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    logger.info("rank %d/%d on %s (%s)", rank, world_size, device, backend)
    return info, device


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Element-wise sum over ranks (identity when not distributed)."""
    if not info.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any rank (so all ranks stop together)."""
    return all_reduce_sum([float(flag)], info, device)[0] > 0
