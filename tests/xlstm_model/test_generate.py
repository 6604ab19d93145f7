from __future__ import annotations

from pathlib import Path

import pytest
import torch

from xlstm_model.generate import main, next_token, stream


def _greedy_by_full_forward(run, prompt: str, n: int) -> list[int]:
    """Reference decoding: re-run the whole sequence each step (no recurrent state)."""
    ids = run.tokenizer.encode(prompt)
    out = []
    for _ in range(n):
        logits, _ = run.model(torch.tensor([ids + out]))
        token = int(logits[0, -1].argmax())
        if token == run.tokenizer.eot_id:
            break
        out.append(token)
    return out


def test_greedy_stream_matches_full_forward_decoding(tiny_run) -> None:
    expected = run_text = _greedy_by_full_forward(tiny_run, "The model learns", 12)
    pieces = list(stream(tiny_run, "The model learns", max_new_tokens=12))
    assert "".join(pieces) == tiny_run.tokenizer.decode(expected)
    assert len(pieces) >= 1 and run_text is expected


def test_sampling_is_reproducible_with_a_seed(tiny_run) -> None:
    kwargs = {"max_new_tokens": 10, "temperature": 1.2, "top_k": 50, "top_p": 0.9}
    assert generate_text(tiny_run, "Gates", seed=1, **kwargs) == generate_text(
        tiny_run, "Gates", seed=1, **kwargs
    )


def test_top_k_one_is_greedy_and_top_p_keeps_the_best_token() -> None:
    logits = torch.tensor([0.1, 3.0, 0.2, 2.9])
    assert next_token(logits, temperature=1.0, top_k=1) == 1
    assert next_token(logits, temperature=5.0, top_p=1e-6) == 1
    assert next_token(logits) == 1


def test_stop_strings_end_generation_before_them(tiny_run) -> None:
    full = generate_text(tiny_run, "The model", max_new_tokens=16)
    stop = full[3:6]
    assert (
        generate_text(tiny_run, "The model", max_new_tokens=16, stop=[stop])
        == full[: full.index(stop)]
    )


def test_allowed_token_ids_constrain_every_step(tiny_run) -> None:
    tok = tiny_run.tokenizer
    allowed = tok.encode(" memory gates")
    ids = tok.encode(generate_text(tiny_run, "The", max_new_tokens=8, allowed_token_ids=allowed))
    assert ids and set(ids) <= set(allowed)


def test_a_logits_processor_sees_the_generated_ids(tiny_run) -> None:
    seen: list[list[int]] = []
    forced = tiny_run.tokenizer.encode(" memory")[0]

    def force(generated: list[int], logits: torch.Tensor) -> torch.Tensor:
        seen.append(generated)
        out = torch.full_like(logits, float("-inf"))
        out[forced] = 0.0
        return out

    text = generate_text(tiny_run, "The", max_new_tokens=3, logits_processor=force)
    assert text == " memory" * 3
    assert seen == [[], [forced], [forced, forced]]


def test_cli_streams_to_stdout(tiny_run_dir: Path, capsys) -> None:
    assert main(["--run", str(tiny_run_dir), "The model", "--max-new-tokens", "5"]) == 0
    assert capsys.readouterr().out.endswith("\n")


def test_cli_without_a_model_is_error_2(tmp_path: Path, capsys) -> None:
    assert main(["--run", str(tmp_path / "none"), "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no trained model") and err.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cli_device_cuda_without_a_gpu_is_error_2(tiny_run_dir: Path, capsys) -> None:
    assert main(["--run", str(tiny_run_dir), "--device", "cuda", "hi"]) == 2
    assert "--device cuda: CUDA is not available (torch " in capsys.readouterr().err


def generate_text(run, prompt: str, **kwargs) -> str:
    """The whole continuation as one string."""
    return "".join(stream(run, prompt, **kwargs))
