"""The reader stage: its loss mix, span pointing, training and resume, and inference."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from tests.helpers.tiny_model import train_tiny
from xlstm_model.checkpoint import load_run, load_tensors
from xlstm_model.config import config_from_preset
from xlstm_model.errors import ModelError
from xlstm_model.model import XLSTMLM
from xlstm_model.reader_stage import LM_MIX, best_span, reader_loss
from xlstm_model.reading import read_units

WORDS = "alpha beta gamma delta memory gate cell state model layer token block head vector".split()


def write_reader_corpus(folder: Path, docs: int = 3, sentences: int = 150) -> Path:
    """Text documents whose sentences the question builders can use (definitions, numbers,
    reasons, lists) among filler."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(docs):
        lines = []
        for i in range(sentences):
            a, b, c = rng.sample(WORDS, 3)
            lines.append(
                [
                    f"The {a} {b} is a {c} unit that stores {rng.choice(WORDS)} values.",
                    f"We trained the {a} {b} with {rng.randint(2, 900)}M parameters on {c} data.",
                    f"The {a} fails because the {b} {c} saturates quickly.",
                    f"Many {a} {b} methods such as {c}, {rng.choice(WORDS)} and {a} exist.",
                    " ".join(rng.choice(WORDS) for _ in range(9)).capitalize() + ".",
                ][i % 5]
            )
        (folder / f"doc{d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reader_corpus(tmp_path_factory) -> Path:
    return write_reader_corpus(tmp_path_factory.mktemp("reader-corpus"))


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def _batch(groups: int = 2, n: int = 3, width: int = 12) -> dict:
    torch.manual_seed(0)
    mask = torch.zeros(groups * n, width, dtype=torch.bool)
    mask[:, 4:10] = True
    return {
        "inputs": torch.randint(5, 60, (groups * n, width)),
        "answer_pos": torch.full((groups * n,), width - 1),
        "unit_mask": mask,
        "span_start": torch.tensor([5, -1]),
        "span_end": torch.tensor([7, -1]),
        "group_size": torch.tensor(n),
        "lm": (torch.randint(5, 60, (2, 16)), torch.randint(5, 60, (2, 16))),
    }


def test_reader_loss_mixes_choice_span_and_next_token_loss() -> None:
    model = XLSTMLM(config_from_preset("tiny", vocab_size=64, reader_head=True))
    loss, parts = reader_loss(model, _batch(), "cpu")
    assert parts["choose"] > 0 and parts["span"] > 0 and parts["lm"] > 0
    expected = parts["choose"] + 0.5 * parts["span"] + LM_MIX * parts["lm"]
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert model.reader_head.weight.grad.abs().sum() > 0
    assert model.lm_head.weight.grad.abs().sum() > 0


def test_a_model_without_reader_head_refuses_to_read() -> None:
    model = XLSTMLM(config_from_preset("tiny", vocab_size=64))
    with pytest.raises(ModelError, match="--qa reader"):
        model.read(torch.zeros(1, 4, dtype=torch.long))


def test_best_span_is_ordered_short_and_inside_the_mask() -> None:
    starts = torch.full((10,), -1e4)
    ends = torch.full((10,), -1e4)
    starts[3], starts[8], ends[5], ends[2] = 5.0, 9.0, 4.0, 9.0
    assert best_span(starts, ends) == (3, 5)  # (8, 2) would end before it starts


def test_reader_training_reports_reading_and_perplexity(reader_corpus, tmp_path) -> None:
    run = tmp_path / "run"
    assert train_tiny(run, reader_corpus, "--max-steps", "6", "--qa", "reader") == 0
    qa = _records(run, "qa_val")[-1]
    for key in ("reader_acc", "upr_acc", "span_exact", "val_ppl", "reader_acc_number"):
        assert 0 <= qa[key] < float("inf"), key
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["reader_head"] and config["training"]["qa"] == "reader"
    loaded = load_run(run)
    units = ["We trained the gate cell with 12M parameters on token data.", "Alpha beta."]
    readings = read_units(loaded, "How many parameters has the gate cell?", units)
    assert len(readings) == 2
    for unit, reading in zip(units, readings, strict=True):
        assert reading.span in unit and unit[reading.start : reading.end].strip(" ,;:.")
        words = unit.split()
        assert all(w.strip(" ,;:.") in [x.strip(" ,;:.") for x in words]
                   for w in reading.span.split())  # whole words only  # fmt: skip


def test_resume_inside_the_reader_stage_gives_the_same_losses(reader_corpus, tmp_path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    args = ("--max-steps", "7", "--qa", "reader")
    assert train_tiny(straight, reader_corpus, *args) == 0
    assert train_tiny(resumed, reader_corpus, *args, "--stop-at-step", "5") == 0
    assert _records(resumed, "train")[-1]["step"] == 5
    assert train_tiny(resumed, reader_corpus, "--max-steps", "7", "--resume") == 0
    losses = [(r["step"], r["loss"]) for r in _records(straight, "train")]
    assert [(r["step"], r["loss"]) for r in _records(resumed, "train")] == losses
    a, _ = load_tensors(straight / "last" / "model.safetensors")
    b, _ = load_tensors(resumed / "last" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_corpus_without_reader_questions_fails_with_a_hint(tmp_path, capsys) -> None:
    from tests.helpers.tiny_model import write_corpus

    corpus = write_corpus(tmp_path / "plain", docs=2, sentences=120)
    assert train_tiny(tmp_path / "run", corpus, "--max-steps", "2", "--qa", "reader") == 2
    assert "--qa rank" in capsys.readouterr().err
