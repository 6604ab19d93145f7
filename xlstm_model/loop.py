"""The training loop shared by `train` and `finetune`: one stage of optimizer steps at a time.

Read top to bottom: the settings; data-parallel set-up (torchrun: gloo on CPU, nccl on GPU); the
learning-rate schedule and optimizer; `run_stage`, which holds the optimizer step itself (AdamW,
gradient clipping, bf16 autocast on CUDA, DistributedDataParallel under torchrun) with logging,
evaluation and stopping; the stages (`pretrain_stage`, `qa_stage`, `rank_stage`: what a stage
samples, how it is evaluated, its loss); and `RunSession`, the run's bookkeeping (best model at the
run root, resume state in last/, metrics.jsonl / metrics.json / loss.png). The schedule is a pure
function of the step, so resuming needs only the step.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from xlstm_model.checkpoint import MODEL_FILE, pick_device, save_last, save_tensors
from xlstm_model.data import BlockSampler, TokenSplit, val_blocks
from xlstm_model.files import atomic_write_json
from xlstm_model.qa_data import (
    Example,
    QASampler,
    RankData,
    collate_groups,
    evaluate_ranking,
    qa_val_batches,
)
from xlstm_model.scoring import rank_loss

logger = logging.getLogger(__name__)

PRETRAIN, QA = "pretrain", "qa"  # the stages, in order
CALIBRATION_STEPS = (2, 8)  # steps of this process timed to size a deadline-bound schedule
DEADLINE_RESERVE = 0.04  # share of the remaining time kept for the final evaluation and save


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


# fmt: off
TRAIN_PRESETS: dict[str, TrainSettings] = {
    "tiny": TrainSettings(batch_size=4, warmup_steps=2, eval_interval=4, eval_blocks=4,
                          log_interval=1, vocab_size=384, rank_groups=1),
    "default": TrainSettings(),
    "gpu-small": TrainSettings(batch_size=32, lr=2e-3, eval_interval=100, vocab_size=8192),
    # `make train` on CUDA (devices.default_preset); the CPU default's vocabulary, so that
    # validation perplexities compare across devices
    "gpu": TrainSettings(batch_size=32, lr=2e-3, eval_interval=100, vocab_size=4096),
    "gpu-medium": TrainSettings(batch_size=32, lr=1e-3, eval_interval=100, vocab_size=8192),
}
# fmt: on


# -- data-parallel set-up


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


# -- optimizer and schedule


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

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    @torch.no_grad()
    def evaluate(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
        """Mean loss per target token over this rank's batches, combined over ranks."""
        self.model.eval()
        total, count = 0.0, 0
        for inputs, targets in batches:
            inputs, targets = inputs.to(self.device), targets.to(self.device)
            with self.autocast():
                _, loss = self.model(inputs, targets)
            n = int((targets != -100).sum())
            total, count = total + loss.float().item() * n, count + n
        total, count = all_reduce_sum([total, float(count)], self.info, self.device)
        return total / max(count, 1.0)


# -- one stage: the steps


@dataclass
class StagePlan:
    """What one stage runs; total_steps None means "as many as fit before the deadline"."""

    name: str  # PRETRAIN or QA
    first_step: int  # the global step at which the stage starts
    total_steps: int | None
    peak_lr: float
    deadline: float | None = None  # time.monotonic() value
    stop_at_step: int | None = None  # global step to stop at, as if interrupted
    adaptive: bool = False  # total_steps re-estimated from the step rate to meet the deadline

    def stage_step(self, trainer: Trainer) -> int:
        return trainer.step - self.first_step


@dataclass
class Stage:
    """What a stage trains on: a restartable batch source, its evaluation and its loss."""

    batches: BlockSampler | QASampler  # next_batch() -> (inputs, targets); state_dict()
    evaluate: Callable[[], dict]  # {"val_loss": ...} or {"qa_val_loss": ...}
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None  # None: token CE


def run_stage(session: RunSession, plan: StagePlan, stage: Stage) -> None:
    """Steps until the stage's step budget, the stop step or the deadline; evaluates every
    `eval_interval` steps and at the end, checkpointing through `session`."""
    trainer = session.trainer
    s, info, device = trainer.settings, trainer.info, trainer.device
    session.register(plan, stage.batches)
    pacer, timer, steps_here, last_eval, eval_s = _Pacer(trainer, plan), _Timer(), 0, None, 0.0
    bar = tqdm(total=plan.total_steps, initial=plan.stage_step(trainer), desc=plan.name,
               disable=not info.is_main, dynamic_ncols=True)  # fmt: skip
    while not _finished(trainer, plan, eval_s):
        lr = lr_at(plan.stage_step(trainer), plan.total_steps or 10**9, plan.peak_lr,
                   s.warmup_steps, s.min_lr_ratio)  # fmt: skip
        inputs, targets = stage.batches.next_batch()
        # the optimizer step: forward (DDP averages the gradients), backward, clip, AdamW
        trainer.wrapped.train()
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = inputs.to(device), targets.to(device)
        with trainer.autocast():
            if stage.loss_fn is None:
                _, loss = trainer.wrapped(inputs, targets)
            else:
                logits, _ = trainer.wrapped(inputs)
                loss = stage.loss_fn(logits, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), s.grad_clip)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.step, steps_here = trainer.step + 1, steps_here + 1
        trainer.tokens_seen += inputs.numel() * info.world_size
        timer.tokens += inputs.numel() * info.world_size
        loss_value = all_reduce_sum([loss.item()], info, device)[0] / info.world_size
        bar.update(1)
        if trainer.step % s.log_interval == 0:
            rate = timer.read()
            session.log(_train_record(trainer, plan, loss_value, lr, rate))
            bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{rate:,.0f}")
        evaluated = trainer.step % s.eval_interval == 0
        if evaluated:
            eval_s, last_eval, timer = _evaluate(session, plan, stage), trainer.step, _Timer()
        pacer.after_step(steps_here, evaluated)
        bar.total = plan.total_steps
    if last_eval != trainer.step:
        _evaluate(session, plan, stage)
    bar.close()


def _finished(trainer: Trainer, plan: StagePlan, eval_seconds: float) -> bool:
    """True on every rank once the stage is done, stopped, or due to end (its final evaluation,
    `eval_seconds` long, must still fit before the deadline)."""
    done = plan.total_steps is not None and plan.stage_step(trainer) >= plan.total_steps
    if plan.stop_at_step is not None and trainer.step >= plan.stop_at_step:
        done = True
    late = plan.deadline is not None and time.monotonic() + eval_seconds >= plan.deadline
    return all_reduce_sum([float(done or late)], trainer.info, trainer.device)[0] > 0


def _evaluate(session: RunSession, plan: StagePlan, stage: Stage) -> float:
    """Evaluates and checkpoints; returns how long that took."""
    start = time.monotonic()
    session.on_eval(plan, stage.evaluate())
    return time.monotonic() - start


def _train_record(trainer: Trainer, plan: StagePlan, loss: float, lr: float, rate: float) -> dict:
    return {"kind": "train", "stage": plan.name, "step": trainer.step,
            "tokens_seen": trainer.tokens_seen, "loss": round(loss, 5), "lr": lr,
            "tokens_per_s": round(rate, 1)}  # fmt: skip


class _Timer:
    """Tokens per second over the steps since the last read (wall clock)."""

    def __init__(self) -> None:
        self.start, self.tokens = time.perf_counter(), 0

    def read(self) -> float:
        now = time.perf_counter()
        rate = self.tokens / max(now - self.start, 1e-9)
        self.start, self.tokens = now, 0
        return rate


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


# -- the stages: what each samples, how it is evaluated, its loss


def pretrain_stage(trainer: Trainer, split: TokenSplit, context_length: int) -> Stage:
    """Language-model pre-training on shuffled windows of the training stream."""
    s, info = trainer.settings, trainer.info
    sampler = BlockSampler(
        split.train, context_length, s.batch_size, s.seed, info.rank, info.world_size
    )
    return Stage(sampler, _lm_evaluator(trainer, split, context_length))


def qa_stage(
    trainer: Trainer,
    examples: tuple[list[Example], list[Example]],
    pad_id: int,
    lm_split: TokenSplit | None = None,
    context_length: int = 0,
) -> Stage:
    """Fine-tuning on QA examples; validation reports QA loss (and LM perplexity if given)."""
    s, info = trainer.settings, trainer.info
    train, val = examples
    sampler = QASampler(train, s.batch_size, pad_id, s.seed, info.rank, info.world_size)
    qa_batches = qa_val_batches(val, s.batch_size, pad_id, info.rank, info.world_size)
    lm_evaluate = _lm_evaluator(trainer, lm_split, context_length) if lm_split else None

    def evaluate() -> dict:
        metrics = {"qa_val_loss": trainer.evaluate(qa_batches())}
        return {**metrics, **(lm_evaluate() if lm_evaluate else {})}

    return Stage(sampler, evaluate)


def rank_stage(
    trainer: Trainer,
    data: RankData,
    pad_id: int,
    lm_split: TokenSplit | None = None,
    context_length: int = 0,
) -> Stage:
    """The QA stage as re-ranker training: `scoring.rank_loss` over ranking groups.

    Validation reports the listwise loss as `qa_val_loss` (the stage's best-model key), the
    share of held-out groups ranked right, and LM perplexity if `lm_split` is given."""
    s, info = trainer.settings, trainer.info
    sampler = QASampler(
        data.train, s.rank_groups, pad_id, s.seed, info.rank, info.world_size, collate_groups
    )
    lm_evaluate = _lm_evaluator(trainer, lm_split, context_length) if lm_split else None

    def evaluate() -> dict:
        ranking = evaluate_ranking(trainer.model, data.val, pad_id, trainer.device)
        metrics = {"qa_val_loss": ranking["rank_val_loss"], **ranking}
        return {**metrics, **(lm_evaluate() if lm_evaluate else {})}

    def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return rank_loss(logits, labels, data.group_size)

    return Stage(sampler, evaluate, loss_fn)


def _lm_evaluator(trainer: Trainer, split: TokenSplit, context_length: int):
    s, info = trainer.settings, trainer.info
    blocks = val_blocks(split.val, context_length, s.eval_blocks)
    mine = blocks[info.rank :: info.world_size]  # this rank's share of the (n, T+1) windows

    def evaluate() -> dict:
        chunks = (mine[i : i + s.batch_size] for i in range(0, len(mine), s.batch_size))
        loss = trainer.evaluate((chunk[:, :-1], chunk[:, 1:]) for chunk in chunks)
        return {"val_loss": loss, "val_ppl": math.exp(loss)}

    return evaluate


# -- the run's bookkeeping: checkpoints and metrics


class RunSession:
    """Saves the best model at the run root and the resume state in last/ after each evaluation;
    logs metrics.jsonl and writes metrics.json and loss.png.

    Only rank 0 writes; every rank keeps the same bookkeeping (evaluations are all-reduced).
    """

    def __init__(self, run_dir: Path, trainer: Trainer, run_info: dict, state: dict | None = None):
        self.run_dir, self.trainer, self.run_info = run_dir, trainer, run_info
        self.info = trainer.info
        state = state or {}
        self.best: dict = state.get("best", {"stage": None, "loss": math.inf})
        self.plans: dict[str, dict] = state.get("plans", {})
        self.samplers: dict = {}
        self.sampler_states: dict = state.get("samplers", {})
        self.latest: dict = state.get("latest", {})
        self.prior_wall_s = float(state.get("wall_s", 0.0))
        self.started = time.monotonic()
        self.records: list[dict] = []
        if trainer.info.is_main:
            self._open_metrics(state.get("step") if state else None)
        if state:
            trainer.step, trainer.tokens_seen = int(state["step"]), int(state["tokens_seen"])

    @property
    def wall_s(self) -> float:
        return self.prior_wall_s + time.monotonic() - self.started

    def stage_finished(self, name: str) -> bool:
        plan = self.plans.get(name)
        if not plan or plan["total_steps"] is None:
            return False
        return self.trainer.step >= plan["first_step"] + plan["total_steps"]

    def make_plan(
        self, name: str, total_steps: int | None, peak_lr: float, deadline: float | None,
        stop_at_step: int | None = None,
    ) -> StagePlan:  # fmt: skip
        """A stage plan, continuing the recorded one when resuming."""
        prior = self.plans.get(name) or {}
        first = prior.get("first_step", self.trainer.step)
        adaptive = total_steps is None and bool(prior.get("adaptive"))
        if total_steps is None:
            total_steps = prior.get("total_steps")
        return StagePlan(name, first, total_steps, peak_lr, deadline, stop_at_step, adaptive)

    def register(self, plan: StagePlan, sampler) -> None:
        """Attaches a stage's sampler, restoring its position when resuming."""
        self.samplers[plan.name] = sampler
        if plan.name in self.sampler_states:
            sampler.load_state_dict(self.sampler_states[plan.name])
        self.plans[plan.name] = _plan_record(plan)

    def on_eval(self, plan: StagePlan, metrics: dict) -> None:
        """Logs a validation record, keeps the best model, writes last/ and the summary."""
        self.plans[plan.name] = _plan_record(plan)
        kind, key = ("qa_val", "qa_val_loss") if plan.name == QA else ("val", "val_loss")
        lm = {k: v for k, v in self.latest.items() if k in ("val_loss", "val_ppl")}
        self.latest = {**lm, **metrics, "stage": plan.name, "step": self.trainer.step}
        self.log({"kind": kind, "stage": plan.name, "step": self.trainer.step,
                  "tokens_seen": self.trainer.tokens_seen, **metrics})  # fmt: skip
        improved = self.best["stage"] != plan.name or metrics[key] < self.best["loss"]
        if improved:
            self.best = {"stage": plan.name, "loss": metrics[key], "step": self.trainer.step}
        if self.info.is_main:
            model = self.trainer.model
            if improved:
                save_tensors(self.run_dir / MODEL_FILE, model.state_dict(), self.meta())
            save_last(self.run_dir, model, self.trainer.optimizer, self.state())
            self.write_summary(plot=False)
        barrier(self.info)

    def state(self) -> dict:
        """The JSON trainer state of last/ (the optimizer part is added by save_last)."""
        return {
            "step": self.trainer.step,
            "tokens_seen": self.trainer.tokens_seen,
            "plans": self.plans,
            "samplers": {name: s.state_dict() for name, s in self.samplers.items()},
            "best": self.best,
            "latest": self.latest,
            "wall_s": self.wall_s,
        }

    def meta(self) -> dict:
        """What the best model's safetensors metadata and metrics.json summary record."""
        latest, train = self.latest, self.series("train")
        val_loss = latest.get("val_loss")
        rates = [r["tokens_per_s"] for r in train[-20:] if r.get("stage") == PRETRAIN]
        return {
            **self.run_info,
            "step": self.trainer.step,
            "tokens_seen": self.trainer.tokens_seen,
            "stage": latest.get("stage"),
            "val_loss": val_loss,
            "val_ppl": math.exp(val_loss) if val_loss is not None else None,
            "qa_val_loss": latest.get("qa_val_loss"),
            "train_loss": train[-1]["loss"] if train else None,
            "tokens_per_s": sum(rates) / len(rates) if rates else None,
            "train_wall_s": round(self.wall_s, 1),
            "params": self.trainer.model.num_params(),
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    # metrics.jsonl (append-only; records of kind "train", "val", "qa_val"), metrics.json, loss.png

    def _open_metrics(self, resume_step: int | None) -> None:
        path = self.run_dir / METRICS_JSONL
        if resume_step is not None and path.is_file():
            self.records = [r for r in _read_jsonl(path) if r.get("step", 0) <= resume_step]
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records), encoding="utf-8")

    def log(self, record: dict) -> None:
        if not self.info.is_main:
            return
        record = {**record, "wall_s": round(self.wall_s, 2)}
        self.records.append(record)
        with (self.run_dir / METRICS_JSONL).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def series(self, kind: str) -> list[dict]:
        return [r for r in self.records if r.get("kind") == kind]

    def write_summary(self, plot: bool = True) -> None:
        """metrics.json (the summary plus every record), and loss.png when `plot` (drawn once,
        at the end of a run)."""
        if not self.info.is_main:
            return
        summary = {**self.meta(), "best": self.best}
        data = {"summary": summary, **{k: self.series(k) for k in ("train", "val", "qa_val")}}
        atomic_write_json(self.run_dir / METRICS_JSON, data)
        if plot:
            try:
                _plot_losses(self.series("train"), self.series("val"), self.run_dir / LOSS_PNG)
            except Exception as e:  # a plotting failure must not lose the checkpoint
                logger.warning("could not draw loss.png: %s", e)


METRICS_JSONL, METRICS_JSON, LOSS_PNG = "metrics.jsonl", "metrics.json", "loss.png"


def _plan_record(plan: StagePlan) -> dict:
    return {"first_step": plan.first_step, "total_steps": plan.total_steps,
            "adaptive": plan.adaptive}  # fmt: skip


def _read_jsonl(path: Path) -> list[dict]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("skipping a corrupt line in %s", path)
    return records


def _plot_losses(train: list[dict], val: list[dict], out: Path) -> None:
    """loss.png: train loss and validation loss against tokens seen."""
    if not train:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["tokens_seen"] for r in train], [r["loss"] for r in train], label="train loss")
    if val:
        xs, ys = [r["tokens_seen"] for r in val], [r["val_loss"] for r in val]
        ax.plot(xs, ys, "o-", label="validation loss")
    qa_train = [r for r in train if r.get("stage") == QA]
    if qa_train:
        ax.axvline(qa_train[0]["tokens_seen"], color="grey", ls="--", label="QA fine-tuning")
    ax.set(xlabel="tokens seen", ylabel="cross-entropy (nats/token)", title="xLSTM training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = out.with_name(".loss.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out)
