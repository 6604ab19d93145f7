"""Training metrics: an append-only metrics.jsonl, a metrics.json summary and a loss-curve PNG."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from xlstm_model.checkpoint import atomic_write_json

logger = logging.getLogger(__name__)

METRICS_JSONL = "metrics.jsonl"
METRICS_JSON = "metrics.json"
LOSS_PNG = "loss.png"


class MetricsLog:
    """Records of kind "train", "val" or "qa_val"; each has step and tokens_seen."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        self.run_dir = run_dir
        self.path = run_dir / METRICS_JSONL
        self.records: list[dict] = []
        if resume_step is not None and self.path.is_file():
            self.records = [r for r in _read_jsonl(self.path) if r.get("step", 0) <= resume_step]
        self._rewrite()

    def _rewrite(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r) + "\n" for r in self.records)
        self.path.write_text(text, encoding="utf-8")

    def log(self, record: dict) -> None:
        self.records.append(record)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def series(self, kind: str) -> list[dict]:
        return [r for r in self.records if r.get("kind") == kind]

    def write_summary(self, summary: dict) -> None:
        """metrics.json: the run summary plus every train and validation record."""
        data = {"summary": summary, **{k: self.series(k) for k in ("train", "val", "qa_val")}}
        atomic_write_json(self.run_dir / METRICS_JSON, data)

    def plot(self) -> Path | None:
        """loss.png: train loss and validation loss against tokens seen."""
        train, val = self.series("train"), self.series("val")
        if not train:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([r["tokens_seen"] for r in train], [r["loss"] for r in train], label="train loss")
        if val:
            xs, ys = [r["tokens_seen"] for r in val], [r["val_loss"] for r in val]
            ax.plot(xs, ys, "o-", label="validation loss")
        qa_train = [r for r in train if r.get("stage") == "qa"]
        if qa_train:
            ax.axvline(qa_train[0]["tokens_seen"], color="grey", ls="--", label="QA fine-tuning")
        ax.set(xlabel="tokens seen", ylabel="cross-entropy (nats/token)", title="xLSTM training")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out = self.run_dir / LOSS_PNG
        tmp = out.with_name(".loss.tmp.png")
        fig.savefig(tmp, dpi=100)
        plt.close(fig)
        tmp.replace(out)
        return out


def _read_jsonl(path: Path) -> list[dict]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("skipping a corrupt line in %s", path)
    return records
