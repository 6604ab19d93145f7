"""A synthetic text corpus and a tiny xLSTM trained on it, for tests."""

from __future__ import annotations

import random
from pathlib import Path

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
