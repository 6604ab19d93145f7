"""One training stage (pre-training or QA fine-tuning): steps, logging, evaluation, stopping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm.auto import tqdm

from xlstm_model.distributed import any_rank
from xlstm_model.trainer import StepTimer, Trainer, lr_at

logger = logging.getLogger(__name__)

CALIBRATION_STEPS = (2, 8)  # steps of this process timed to size a deadline-bound schedule
DEADLINE_RESERVE = 0.04  # share of the remaining time kept for the final evaluation and save


class BatchSource(Protocol):
    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass
class StagePlan:
    """What one stage runs; total_steps None means "as many as fit before the deadline"."""

    name: str  # "pretrain" or "qa"
    first_step: int  # the global step at which the stage starts
    total_steps: int | None
    peak_lr: float
    deadline: float | None = None  # time.monotonic() value
    stop_at_step: int | None = None  # global step to stop at, as if interrupted

    def stage_step(self, trainer: Trainer) -> int:
        return trainer.step - self.first_step


@dataclass
class StageHooks:
    """What the caller does around the steps: evaluation, checkpointing and logging."""

    evaluate: Callable[[], dict]  # {"val_loss": ...} or {"qa_val_loss": ...}
    on_eval: Callable[[StagePlan, dict], None]  # saves checkpoints, logs the record
    log: Callable[[dict], None]


def _finished(trainer: Trainer, plan: StagePlan) -> bool:
    done = plan.total_steps is not None and plan.stage_step(trainer) >= plan.total_steps
    if plan.stop_at_step is not None and trainer.step >= plan.stop_at_step:
        done = True
    late = plan.deadline is not None and time.monotonic() >= plan.deadline
    return any_rank(done or late, trainer.info, trainer.device)


def _calibrate(trainer: Trainer, plan: StagePlan, seconds_per_step: float) -> int:
    """Total stage steps that fit before the deadline, counting evaluation time."""
    s = trainer.settings
    eval_steps = s.eval_blocks / max(s.batch_size, 1) / 3  # a forward pass ~ 1/3 of a step
    per_step = seconds_per_step * (1 + eval_steps / max(s.eval_interval, 1))
    remaining = (plan.deadline - time.monotonic()) * (1 - DEADLINE_RESERVE)
    return plan.stage_step(trainer) + max(1, int(remaining / per_step))


def run_stage(trainer: Trainer, plan: StagePlan, batches: BatchSource, hooks: StageHooks) -> None:
    """Steps until the stage's step budget, the stop step or the deadline; evaluates at the end."""
    s = trainer.settings
    timer, steps_here, calib_start = StepTimer(), 0, 0.0
    bar = tqdm(
        total=plan.total_steps,
        initial=plan.stage_step(trainer),
        desc=plan.name,
        disable=not trainer.info.is_main,
        dynamic_ncols=True,
    )
    last_eval = None
    while not _finished(trainer, plan):
        total = plan.total_steps or 10**9
        lr = lr_at(plan.stage_step(trainer), total, plan.peak_lr, s.warmup_steps, s.min_lr_ratio)
        inputs, targets = batches.next_batch()
        tokens_before = trainer.tokens_seen
        loss = trainer.train_step(inputs, targets, lr)
        timer.add(trainer.tokens_seen - tokens_before)
        steps_here += 1
        if steps_here == CALIBRATION_STEPS[0]:
            calib_start = time.perf_counter()
        if plan.total_steps is None and steps_here == CALIBRATION_STEPS[1]:
            seconds = (time.perf_counter() - calib_start) / (
                CALIBRATION_STEPS[1] - CALIBRATION_STEPS[0]
            )
            plan.total_steps = bar.total = _calibrate(trainer, plan, seconds)
            logger.info("%s: %d steps fit the time budget", plan.name, plan.total_steps)
        bar.update(1)
        if trainer.step % s.log_interval == 0:
            rate = timer.read()
            hooks.log(_train_record(trainer, plan, loss, lr, rate))
            bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
        if trainer.step % s.eval_interval == 0:
            _evaluate(trainer, plan, hooks)
            last_eval, timer = trainer.step, StepTimer()
    if last_eval != trainer.step:
        _evaluate(trainer, plan, hooks)
    bar.close()


def _evaluate(trainer: Trainer, plan: StagePlan, hooks: StageHooks) -> None:
    metrics = hooks.evaluate()
    hooks.on_eval(plan, metrics)


def _train_record(trainer: Trainer, plan: StagePlan, loss: float, lr: float, rate: float) -> dict:
    return {
        "kind": "train",
        "stage": plan.name,
        "step": trainer.step,
        "tokens_seen": trainer.tokens_seen,
        "loss": round(loss, 5),
        "lr": lr,
        "tokens_per_s": round(rate, 1),
    }
