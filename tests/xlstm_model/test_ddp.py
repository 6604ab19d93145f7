"""Data-parallel training with two CPU processes under torchrun (gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.tiny_model import write_corpus

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_one_model(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", docs=3, sentences=160)
    out = tmp_path / "run"
    env = {**os.environ, "XRAG_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "xlstm_model.train",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        "--config",
        "tiny",
        "--device",
        "cpu",
        "--max-steps",
        "4",
        "--qa",
        "none",
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    assert summary["world_size"] == 2 and summary["step"] == 4
    config = json.loads((out / "config.json").read_text())
    per_step = 2 * config["training"]["settings"]["batch_size"] * config["model"]["context_length"]
    assert summary["tokens_seen"] == 4 * per_step
    assert (out / "model.safetensors").is_file() and (out / "last" / "trainer_state.json").is_file()
