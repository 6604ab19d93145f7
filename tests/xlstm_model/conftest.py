"""Shared fixtures: a synthetic text corpus and one tiny trained run (trained once per session)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

WORDS = (
    "the model learns long short term memory gates with exponential gating and matrix memory "
    "cells for language modelling tasks while the recurrent state keeps a constant size"
).split()


def write_corpus(folder: Path, docs: int = 3, sentences: int = 160, seed: int = 0) -> Path:
    """Plain-text documents of random sentences over a small vocabulary."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        lines = []
        for _ in range(sentences):
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
            lines.append(" ".join(words).capitalize() + ".")
        (folder / f"doc{d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


def train_tiny(out: Path, corpus: Path, *extra: str) -> int:
    from xlstm_model.train import main

    argv = ["--corpus", str(corpus), "--out", str(out), "--config", "tiny", "--device", "cpu"]
    return main([*argv, *extra])


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """A run directory trained for 8 steps on the synthetic corpus (do not modify it)."""
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("runs") / "tiny"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XRAG_DATA_DIR", str(data))
        assert train_tiny(out, corpus_dir, "--max-steps", "8") == 0
    return out


@pytest.fixture(scope="session")
def tiny_run(tiny_run_dir: Path):
    from xlstm_model.checkpoint import load_run

    return load_run(tiny_run_dir)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test writes runtime state (caches, default runs) under its tmp_path."""
    monkeypatch.setenv("XRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("XRAG_PAPER_MIRRORS", raising=False)
