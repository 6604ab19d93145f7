"""One training stage (pre-training or QA fine-tuning): steps, logging, evaluation, stopping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm.auto import tqdm

from xlstm_model.distributed import all_reduce_sum, any_rank
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
    adaptive: bool = False  # total_steps re-estimated from the step rate to meet the deadline

    def stage_step(self, trainer: Trainer) -> int:
        return trainer.step - self.first_step


@dataclass
class StageHooks:
    """What the caller does around the steps: evaluation, checkpointing and logging."""

    evaluate: Callable[[], dict]  # {"val_loss": ...} or {"qa_val_loss": ...}
    on_eval: Callable[[StagePlan, dict], None]  # saves checkpoints, logs the record
    log: Callable[[dict], None]


def _finished(trainer: Trainer, plan: StagePlan, eval_seconds: float) -> bool:
    """True on every rank once the stage is done, stopped, or due to end (its final evaluation,
    `eval_seconds` long, must still fit before the deadline)."""
    done = plan.total_steps is not None and plan.stage_step(trainer) >= plan.total_steps
    if plan.stop_at_step is not None and trainer.step >= plan.stop_at_step:
        done = True
    late = plan.deadline is not None and time.monotonic() + eval_seconds >= plan.deadline
    return any_rank(done or late, trainer.info, trainer.device)


class _Pacer:
    """Sizes a deadline-bound stage: the step count that fits the remaining time, re-estimated
    from the measured rate (evaluations included) after calibration and after every evaluation,
    so the cosine schedule ends at the deadline even when the machine's load changes."""

    def __init__(self, trainer: Trainer, plan: StagePlan) -> None:
        self.trainer, self.plan = trainer, plan
        adaptive = plan.adaptive or plan.total_steps is None
        plan.adaptive = adaptive and plan.deadline is not None
        self.window: tuple[float, int] | None = None  # (time, stage step) where timing began

    def after_step(self, steps_here: int, evaluated: bool) -> None:
        if not self.plan.adaptive:
            return
        now, step = time.monotonic(), self.plan.stage_step(self.trainer)
        if steps_here == CALIBRATION_STEPS[0] or self.window is None:
            self.window = (now, step)
            return
        first = steps_here == CALIBRATION_STEPS[1] and self.plan.total_steps is None
        if first or (evaluated and step - self.window[1] >= 2):
            per_step = (now - self.window[0]) / (step - self.window[1])
            if first:  # no evaluation timed yet: add its share (a forward ~ 1/3 of a step)
                s = self.trainer.settings
                per_step *= 1 + s.eval_blocks / max(s.batch_size, 1) / 3 / max(s.eval_interval, 1)
            self._resize(per_step)
            self.window = (time.monotonic(), step)

    def _resize(self, seconds_per_step: float) -> None:
        remaining = (self.plan.deadline - time.monotonic()) * (1 - DEADLINE_RESERVE)
        total = self.plan.stage_step(self.trainer) + max(1, int(remaining / seconds_per_step))
        info, device = self.trainer.info, self.trainer.device
        if info.enabled:  # every rank follows rank 0's schedule
            total = int(all_reduce_sum([total if info.is_main else 0], info, device)[0])
        self.plan.total_steps = total


def run_stage(
    trainer: Trainer, plan: StagePlan, batches: BatchSource, hooks: StageHooks, loss_fn=None
) -> None:
    """Steps until the stage's step budget, the stop step or the deadline; evaluates at the end.

    `loss_fn(logits, targets)` replaces the token cross-entropy when given."""
    s, pacer = trainer.settings, _Pacer(trainer, plan)
    timer, steps_here, last_eval, eval_seconds = StepTimer(), 0, None, 0.0
    bar = tqdm(total=plan.total_steps, initial=plan.stage_step(trainer), desc=plan.name,
               disable=not trainer.info.is_main, dynamic_ncols=True)  # fmt: skip
    while not _finished(trainer, plan, eval_seconds):
        total = plan.total_steps or 10**9
        lr = lr_at(plan.stage_step(trainer), total, plan.peak_lr, s.warmup_steps, s.min_lr_ratio)
        inputs, targets = batches.next_batch()
        tokens_before = trainer.tokens_seen
        loss = trainer.train_step(inputs, targets, lr, loss_fn)
        timer.add(trainer.tokens_seen - tokens_before)
        steps_here += 1
        bar.update(1)
        if trainer.step % s.log_interval == 0:
            rate = timer.read()
            hooks.log(_train_record(trainer, plan, loss, lr, rate))
            bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
        evaluated = trainer.step % s.eval_interval == 0
        if evaluated:
            eval_seconds = _evaluate(trainer, plan, hooks)
            last_eval, timer = trainer.step, StepTimer()
        pacer.after_step(steps_here, evaluated)
        bar.total = plan.total_steps
    if last_eval != trainer.step:
        _evaluate(trainer, plan, hooks)
    bar.close()


def _evaluate(trainer: Trainer, plan: StagePlan, hooks: StageHooks) -> float:
    """Evaluates and checkpoints; returns how long that took."""
    start = time.monotonic()
    hooks.on_eval(plan, hooks.evaluate())
    return time.monotonic() - start


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
