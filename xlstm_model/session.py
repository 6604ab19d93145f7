"""The bookkeeping of one training run: best/last checkpoints, metrics, trainer state."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path

from xlstm_model.checkpoint import MODEL_FILE, save_tensors
from xlstm_model.distributed import barrier
from xlstm_model.loop import StagePlan
from xlstm_model.metrics import MetricsLog
from xlstm_model.train_state import save_last
from xlstm_model.trainer import Trainer

logger = logging.getLogger(__name__)


class RunSession:
    """Saves the best model at the run root and the resume state in last/ after each evaluation.

    Only rank 0 writes; every rank keeps the same bookkeeping (evaluations are all-reduced).
    """

    def __init__(self, run_dir: Path, trainer: Trainer, run_info: dict, state: dict | None = None):
        self.run_dir, self.trainer, self.run_info = run_dir, trainer, run_info
        state = state or {}
        self.best: dict = state.get("best", {"stage": None, "loss": math.inf})
        self.plans: dict[str, dict] = state.get("plans", {})
        self.samplers: dict = {}
        self.sampler_states: dict = state.get("samplers", {})
        self.latest: dict = state.get("latest", {})
        self.prior_wall_s = float(state.get("wall_s", 0.0))
        self.started = time.monotonic()
        resume_step = state.get("step") if state else None
        self.metrics = MetricsLog(run_dir, resume_step) if trainer.info.is_main else None
        if state:
            trainer.step, trainer.tokens_seen = int(state["step"]), int(state["tokens_seen"])

    @property
    def wall_s(self) -> float:
        return self.prior_wall_s + time.monotonic() - self.started

    def register(self, plan: StagePlan, sampler) -> None:
        """Attaches a stage's sampler, restoring its position when resuming."""
        self.samplers[plan.name] = sampler
        if plan.name in self.sampler_states:
            sampler.load_state_dict(self.sampler_states[plan.name])
        self.plans[plan.name] = _plan_record(plan)

    def log(self, record: dict) -> None:
        if self.metrics is not None:
            self.metrics.log({**record, "wall_s": round(self.wall_s, 2)})

    def on_eval(self, plan: StagePlan, metrics: dict) -> None:
        """Logs a validation record, keeps the best model, writes last/ and the summary."""
        self.plans[plan.name] = _plan_record(plan)
        kind = "qa_val" if plan.name == "qa" else "val"
        key = "qa_val_loss" if plan.name == "qa" else "val_loss"
        lm = {k: v for k, v in self.latest.items() if k in ("val_loss", "val_ppl")}
        self.latest = {**lm, **metrics, "stage": plan.name, "step": self.trainer.step}
        self.log(
            {
                "kind": kind,
                "stage": plan.name,
                "step": self.trainer.step,
                "tokens_seen": self.trainer.tokens_seen,
                **metrics,
            }
        )
        improved = self.best["stage"] != plan.name or metrics[key] < self.best["loss"]
        if improved:
            self.best = {"stage": plan.name, "loss": metrics[key], "step": self.trainer.step}
        if self.trainer.info.is_main:
            if improved:
                save_tensors(
                    self.run_dir / MODEL_FILE, self.trainer.model.state_dict(), self.meta()
                )
            save_last(self.run_dir, self.trainer.model, self.trainer.optimizer, self.state())
            self.write_summary(plot=False)
        barrier(self.trainer.info)

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
        latest = self.latest
        val_loss = latest.get("val_loss")
        train = self.metrics.series("train") if self.metrics else []
        rates = [r["tokens_per_s"] for r in train[-20:] if r.get("stage") == "pretrain"]
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

    def write_summary(self, plot: bool = True) -> None:
        """metrics.json, and loss.png when `plot` (drawn once at the end of a run)."""
        if self.metrics is not None:
            self.metrics.write_summary({**self.meta(), "best": self.best})
            if not plot:
                return
            try:
                self.metrics.plot()
            except Exception as e:  # a plotting failure must not lose the checkpoint
                logger.warning("could not draw loss.png: %s", e)


def _plan_record(plan: StagePlan) -> dict:
    return {
        "first_step": plan.first_step,
        "total_steps": plan.total_steps,
        "adaptive": plan.adaptive,
    }
