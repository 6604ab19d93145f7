"""Smoke test of the benchmarks at --quick sizes (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.model import main
from tests.helpers.tiny_model import write_corpus


@pytest.mark.slow
def test_quick_bench_prints_every_table_and_writes_json(tmp_path: Path, capsys) -> None:
    corpus = write_corpus(tmp_path / "corpus", docs=2, sentences=120)
    assert main(["--quick", "--out", str(tmp_path / "out"), "--corpus", str(corpus)]) == 0
    printed = capsys.readouterr().out
    for title in (
        "1. Training",
        "2. Training tokens/s",
        "3. mLSTM forms",
        "4. Generation",
        "5. Val",
    ):
        assert title in printed
    results = json.loads((tmp_path / "out" / "bench.json").read_text())["results"]
    assert {r["model"] for r in results["stacks"]} == {
        "ours (chunkwise)",
        "official xlstm (parallel)",
        "GPT (causal SDPA)",
    }
    assert [r["model"] for r in results["quality"]] == ["xLSTM[1:0]", "xLSTM[3:1]", "GPT"]
    sizes = {r["model"]: r["state_bytes"] for r in results["generation"] if r["context"] == 32}
    assert sizes["GPT + KV cache"] > 0 and sizes["xLSTM"] > 0
