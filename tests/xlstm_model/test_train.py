from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.helpers.tiny_model import train_tiny, write_corpus
from xlstm_model.checkpoint import load_tensors
from xlstm_model.data import BlockSampler, resolve_corpus, split_tokens
from xlstm_model.errors import ModelError
from xlstm_model.loop import lr_at
from xlstm_model.qa_data import encode_example, pad_batch
from xlstm_model.tokenizer import train_tokenizer


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_training_writes_metrics_plot_and_config(tiny_run_dir: Path) -> None:
    summary = json.loads((tiny_run_dir / "metrics.json").read_text())["summary"]
    for key in ("train_loss", "val_ppl", "tokens_seen", "tokens_per_s", "params", "train_wall_s"):
        assert summary[key] is not None, key
    assert [r["step"] for r in _records(tiny_run_dir, "train")] == list(range(1, 9))
    assert _records(tiny_run_dir, "val")[-1]["step"] == 5  # pre-training: 8 - 40% QA steps
    qa = _records(tiny_run_dir, "qa_val")[-1]
    assert qa["step"] == 8 and "rank_val_acc" in qa  # "--qa rank" is the default
    assert (tiny_run_dir / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((tiny_run_dir / "config.json").read_text())
    assert (
        config["preset"] == "tiny" and config["tokenizer"]["special_tokens"]["<|endoftext|>"] == 0
    )
    assert config["model"]["vocab_size"] == config["tokenizer"]["vocab_size"]


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(corpus_dir, tmp_path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train_tiny(straight, corpus_dir, "--max-steps", "10") == 0
    assert train_tiny(resumed, corpus_dir, "--max-steps", "10", "--stop-at-step", "5") == 0
    assert _records(resumed, "train")[-1]["step"] == 5
    assert train_tiny(resumed, corpus_dir, "--max-steps", "10", "--resume") == 0
    losses = [(r["step"], r["loss"]) for r in _records(straight, "train")]
    assert [(r["step"], r["loss"]) for r in _records(resumed, "train")] == losses
    a, _ = load_tensors(straight / "last" / "model.safetensors")
    b, _ = load_tensors(resumed / "last" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_default_out_and_if_missing(corpus_dir, tmp_path, capsys) -> None:
    assert train_tiny(Path("default"), corpus_dir, "--max-steps", "2") == 0
    model = tmp_path / "data" / "models" / "default" / "model.safetensors"
    stamp = model.stat().st_mtime_ns
    assert train_tiny(Path("default"), corpus_dir, "--max-steps", "2", "--if-missing") == 0
    assert "already exists" in capsys.readouterr().out
    assert model.stat().st_mtime_ns == stamp


def test_a_time_budget_alone_ends_with_a_checkpoint(corpus_dir, tmp_path) -> None:
    assert train_tiny(tmp_path / "run", corpus_dir, "--max-minutes", "0.04") == 0
    assert _records(tmp_path / "run", "val")


def test_qa_stage_runs_after_pretraining(corpus_dir, tmp_path) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"context": f"Gates number {i} open.", "question": "What opens?", "answer": f"gate {i}"}
        for i in range(30)
    ]
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert train_tiny(tmp_path / "run", corpus_dir, "--max-steps", "6", "--qa", str(qa)) == 0
    qa_records = _records(tmp_path / "run", "qa_val")
    assert qa_records and qa_records[-1]["step"] == 6 and "val_ppl" in qa_records[-1]
    assert {r["stage"] for r in _records(tmp_path / "run", "train")} == {"pretrain", "qa"}


def test_qa_auto_fine_tunes_on_inverse_cloze_examples(corpus_dir, tmp_path) -> None:
    assert train_tiny(tmp_path / "run", corpus_dir, "--max-steps", "6", "--qa", "auto") == 0
    qa = _records(tmp_path / "run", "qa_val")[-1]
    assert qa["step"] == 6 and "rank_val_acc" not in qa and qa["qa_val_loss"] > 0


def test_qa_examples_put_the_loss_on_the_answer_only() -> None:
    tok = train_tokenizer(["some context words and answers to questions"] * 20, vocab_size=300)
    row = {"context": "some context", "question": "which words?", "answer": "answers"}
    ids, labels = encode_example(tok, row, max_len=64)
    assert len(ids) == len(labels)
    supervised = [t for t in labels if t != -100]
    assert tok.decode(supervised, skip_special_tokens=False) == " answers<|endoftext|>"
    upr_row = {**row, "answer": ""}
    _, labels = encode_example(tok, upr_row, max_len=64)
    assert tok.decode([t for t in labels if t != -100]) == " which words?"
    long_ids, long_labels = encode_example(tok, {**row, "context": "words " * 200}, max_len=32)
    assert len(long_ids) == 32 and long_ids[0] == tok.token_id("<|context|>")
    inputs, batch_labels = pad_batch([(ids, labels), (long_ids, long_labels)], tok.pad_id)
    assert inputs.shape == batch_labels.shape == (2, 32)
    assert (batch_labels[0, len(ids) :] == -100).all() and (inputs[0, len(ids) :] == 4).all()


def test_learning_rate_warms_up_then_decays_to_the_floor() -> None:
    lrs = [lr_at(s, total_steps=100, peak=1.0, warmup=10, min_ratio=0.1) for s in range(101)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert lrs[100] == pytest.approx(0.1)


def test_block_sampler_restarts_from_its_state_and_splits_ranks() -> None:
    tokens = torch.arange(1000)
    sampler = BlockSampler(tokens, context_length=16, batch_size=4, seed=3)
    for _ in range(20):  # crosses an epoch boundary
        sampler.next_batch()
    clone = BlockSampler(tokens, context_length=16, batch_size=4, seed=3)
    clone.load_state_dict(sampler.state_dict())
    for _ in range(5):
        (x1, y1), (x2, y2) = sampler.next_batch(), clone.next_batch()
        assert torch.equal(x1, x2) and torch.equal(y1, y2) and torch.equal(x1[:, 1:], y1[:, :-1])
    ranks = [BlockSampler(tokens, 16, 4, seed=3, rank=r, world_size=2) for r in (0, 1)]
    starts = [set(s.next_batch()[0][:, 0].tolist()) for s in ranks]
    assert not starts[0] & starts[1]


def test_split_holds_out_the_tail_of_every_document() -> None:
    split = split_tokens([list(range(5, 105)), list(range(200, 240))], eot_id=0, val_fraction=0.1)
    assert split.val.tolist() == [*range(95, 105), 0, *range(236, 240), 0]
    assert len(split.train) == 90 + 1 + 36 + 1


def test_default_corpus_comes_from_the_ingest_manifest(tmp_path, monkeypatch) -> None:
    import ingest.fetch
    from ingest.errors import FetchError

    papers = [tmp_path / "a.pdf"]
    monkeypatch.setattr(ingest.fetch, "resolve_default_papers", lambda role=None: papers)
    assert resolve_corpus(["default"]) == papers

    def offline(role=None):
        raise FetchError("3 default papers are missing")

    monkeypatch.setattr(ingest.fetch, "resolve_default_papers", offline)
    with pytest.raises(ModelError, match="default corpus is incomplete: 3 default papers"):
        resolve_corpus(["default"])


def _bad_input_cases(tmp_path: Path) -> dict[str, list[str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n")
    empty_dir = tmp_path / "no-files"
    empty_dir.mkdir()
    small = write_corpus(tmp_path / "small", docs=1, sentences=3)
    bad_qa = tmp_path / "bad.jsonl"
    bad_qa.write_text('{"context": "c", "question": "q", "answer": "a"}\nnot json\n')
    return {
        "no text": ["--corpus", str(empty)],
        "does not exist": ["--corpus", str(tmp_path / "nothing-here")],
        "no .pdf, .txt or .md": ["--corpus", str(empty_dir)],
        "fewer than one batch": ["--corpus", str(small)],
        "nothing to resume": ["--resume"],
        "unknown --config": ["--config", "huge"],
        "bad.jsonl:2 is not valid JSON": ["--qa", str(bad_qa)],
    }


def test_bad_input_is_a_one_line_error_with_exit_code_2(corpus_dir, tmp_path, capsys) -> None:
    from xlstm_model.train import main

    for expected, extra in _bad_input_cases(tmp_path).items():
        argv = ["--corpus", str(corpus_dir), "--out", str(tmp_path / "run"), "--config", "tiny"]
        assert main([*argv, "--max-steps", "2", *extra]) == 2, expected
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and expected in err and "\n" not in err, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_device_cuda_without_a_gpu_is_an_error(corpus_dir, tmp_path, capsys) -> None:
    from xlstm_model.train import main

    argv = ["--corpus", str(corpus_dir), "--out", str(tmp_path / "r"), "--device", "cuda"]
    assert main([*argv, "--config", "tiny", "--max-steps", "1"]) == 2
    assert "--device cuda: CUDA is not available (torch " in capsys.readouterr().err


def test_finetune_continues_a_trained_run(tiny_run_dir: Path, tmp_path: Path) -> None:
    import shutil

    from xlstm_model.finetune import main

    run = Path(shutil.copytree(tiny_run_dir, tmp_path / "run"))
    qa = tmp_path / "qa.jsonl"
    row = {"context": "Cell {} has a gate.", "question": "What has a gate?", "answer": "cell {}"}
    rows = [{k: v.format(i) for k, v in row.items()} for i in range(20)]
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["--run", str(run), "--qa", str(qa), "--max-steps", "2", "--device", "cpu"]) == 0
    summary = json.loads((run / "metrics.json").read_text())["summary"]
    assert summary["step"] == 10 and summary["stage"] == "qa" and summary["val_ppl"] is not None
    assert main(["--run", str(run), "--qa", "auto", "--max-steps", "1"]) == 2


def test_resume_from_a_corrupt_checkpoint_is_error_2(tiny_run_dir, corpus_dir, tmp_path, capsys):
    import shutil

    run = Path(shutil.copytree(tiny_run_dir, tmp_path / "run"))
    (run / "last" / "optimizer.safetensors").write_bytes(b"\x00" * 10)
    assert train_tiny(run, corpus_dir, "--resume", "--max-steps", "12") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: corrupt checkpoint") and err.count("\n") == 1


def test_qa_fraction_overrides_the_presets_share_of_the_budget() -> None:
    from types import SimpleNamespace

    from xlstm_model.train import budget

    spec = SimpleNamespace(settings=SimpleNamespace(qa_fraction=0.4))

    def args(**kw):
        return SimpleNamespace(**{"max_minutes": None, "max_steps": 100, "qa_fraction": None, **kw})

    assert budget(args(), 0.0, True, spec)["qa_steps"] == 40
    assert budget(args(qa_fraction=0.2), 0.0, True, spec)["qa_steps"] == 20
    timed = budget(args(max_steps=None, max_minutes=10, qa_fraction=0.25), 0.0, True, spec)
    assert timed["pretrain_deadline"] == 450 and timed["qa_deadline"] == 600


def test_a_qa_fraction_outside_0_1_is_a_one_line_error(capsys) -> None:
    from xlstm_model.train import main

    assert main(["--qa-fraction", "1.5", "--out", "unused"]) == 2
    assert capsys.readouterr().err == (
        "error: --qa-fraction 1.5: give a share between 0 and 1, e.g. 0.2\n"
    )
