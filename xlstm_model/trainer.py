"""The optimisation loop shared by pre-training and QA fine-tuning.

AdamW with linear warm-up and cosine decay (a pure function of the step, so resuming needs only
the step), gradient clipping, bf16 autocast on CUDA, DistributedDataParallel when under torchrun.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields

import torch
from torch.nn.parallel import DistributedDataParallel

from xlstm_model.distributed import DistInfo, all_reduce_sum

logger = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Optimisation and data settings (the model's shape lives in the model config)."""

    batch_size: int = 16  # sequences per step and rank
    lr: float = 3e-3  # peak learning rate of pre-training
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 30
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    beta2: float = 0.95
    eval_interval: int = 50  # steps between validation (and last/ checkpoints)
    eval_blocks: int = 48  # validation windows per evaluation
    log_interval: int = 5
    seed: int = 1337
    vocab_size: int = 4096  # BPE vocabulary trained on the corpus
    val_fraction: float = 0.05  # tail of every document held out
    qa_fraction: float = 0.4  # share of the step/time budget given to --qa fine-tuning
    qa_lr_ratio: float = 0.3  # QA peak lr relative to lr
    rank_groups: int = 4  # ranking groups (question + 8 passages) per step and rank

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


TRAIN_PRESETS: dict[str, TrainSettings] = {
    "tiny": TrainSettings(
        batch_size=4,
        warmup_steps=2,
        eval_interval=4,
        eval_blocks=4,
        log_interval=1,
        vocab_size=384,
        rank_groups=1,
    ),
    "default": TrainSettings(),
    "gpu-small": TrainSettings(batch_size=32, lr=2e-3, eval_interval=100, vocab_size=8192),
    "gpu-medium": TrainSettings(batch_size=32, lr=1e-3, eval_interval=100, vocab_size=8192),
}


def lr_at(step: int, total_steps: int, peak: float, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to peak * min_ratio at total_steps."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model: torch.nn.Module, settings: TrainSettings) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not on biases, norms or gate vectors)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": settings.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=settings.lr, betas=(0.9, settings.beta2), eps=1e-8)


class Trainer:
    """Holds the model, its DDP wrapper and the optimizer; counts steps and tokens."""

    def __init__(
        self, model: torch.nn.Module, settings: TrainSettings, device: torch.device, info: DistInfo
    ) -> None:
        self.model, self.settings, self.device, self.info = model, settings, device, info
        self.model.to(device)
        self.wrapped = model
        if info.enabled:
            ids = [device.index] if device.type == "cuda" else None
            self.wrapped = DistributedDataParallel(model, device_ids=ids)
        self.optimizer = make_optimizer(model, settings)
        self.step = 0
        self.tokens_seen = 0

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def train_step(
        self, inputs: torch.Tensor, targets: torch.Tensor, lr: float, loss_fn=None
    ) -> float:
        """One AdamW step on a batch; returns the loss averaged over ranks.

        `loss_fn(logits, targets)` replaces the token cross-entropy when given."""
        self.wrapped.train()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        with self._autocast():
            if loss_fn is None:
                _, loss = self.wrapped(inputs, targets)
            else:
                logits, _ = self.wrapped(inputs)
                loss = loss_fn(logits, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.tokens_seen += inputs.numel() * self.info.world_size
        return all_reduce_sum([loss.item()], self.info, self.device)[0] / self.info.world_size

    @torch.no_grad()
    def evaluate(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
        """Mean loss per target token over this rank's batches, combined over ranks."""
        self.model.eval()
        total, count = 0.0, 0
        for inputs, targets in batches:
            inputs, targets = inputs.to(self.device), targets.to(self.device)
            with self._autocast():
                _, loss = self.model(inputs, targets)
            n = int((targets != -100).sum())
            total, count = total + loss.float().item() * n, count + n
        total, count = all_reduce_sum([total, float(count)], self.info, self.device)
        return total / max(count, 1.0)


def shard_batches(
    blocks: torch.Tensor, batch_size: int, info: DistInfo
) -> Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]:
    """Validation batches of (n, T+1) windows, this rank's share only."""
    mine = blocks[info.rank :: info.world_size]

    def batches():
        for i in range(0, len(mine), batch_size):
            chunk = mine[i : i + batch_size]
            yield chunk[:, :-1], chunk[:, 1:]

    return batches


class StepTimer:
    """Tokens per second over the steps since the last read (wall clock)."""

    def __init__(self) -> None:
        self.start, self.tokens = time.perf_counter(), 0

    def add(self, tokens: int) -> None:
        self.tokens += tokens

    def read(self) -> float:
        now = time.perf_counter()
        rate = self.tokens / max(now - self.start, 1e-9)
        self.start, self.tokens = now, 0
        return rate
