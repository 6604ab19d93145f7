"""bench/gpu_check.py on CPU: CUDA sections skip with their reason, the speed section runs."""

from __future__ import annotations

import json

import pytest

from bench import gpu_check


def test_gpu_check_runs_on_cpu_with_tiny_sizes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--out", str(tmp_path), "--size", "tiny", "--steps", "1"]) == 0
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert figures["device"] == "cpu"
    assert figures["equality.skipped"].startswith("no CUDA device (torch ")
    assert figures["train.skipped"] == figures["equality.skipped"]
    for row in ("ours_eager", "official"):
        assert figures[f"speed.tiny.{row}.tokens_per_s"] > 0
        assert figures[f"speed.tiny.{row}.params"] > 0
    assert "speed.tiny.ours_eager.mfu_percent" not in figures  # MFU only against a GPU peak
    out = capsys.readouterr().out
    assert "equality.skipped: no CUDA device" in out
    assert len([line for line in out.splitlines() if line.startswith("speed.")]) == 6


def test_export_corpus_writes_text_files(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("The mLSTM has a matrix memory.\n")
    (corpus / "b.txt").write_text("The sLSTM mixes memory inside a head.\n")
    assert (
        gpu_check.main(
            [
                "--out",
                str(tmp_path),
                "--corpus",
                str(corpus),
                "--export-corpus",
                str(tmp_path / "txt"),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "txt").iterdir()) == ["a.txt", "b.txt"]
    assert "matrix memory" in (tmp_path / "txt" / "a.txt").read_text()


def test_unknown_section_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--out", str(tmp_path), "--sections", "nope"]) == 0
    assert (
        "unknown section" in json.loads((tmp_path / "gpu_check.json").read_text())["nope.skipped"]
    )


@pytest.mark.gpu
def test_gpu_check_equality_on_cuda(tmp_path):
    assert gpu_check.main(["--out", str(tmp_path), "--size", "tiny", "--sections", "equality"]) == 0
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert figures["equality.mlstm.forward_rel_err"] < 1e-2
    assert figures["equality.slstm.bf16_forward_rel_err"] < 5e-2
