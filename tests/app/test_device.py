"""The app loads the model on the `--device` it is given; CUDA without a GPU is a one-line error."""

from __future__ import annotations

import pytest
import torch

from app.errors import UserError
from app.resources import load_model


def test_model_loads_on_the_cpu_device(tiny_run_dir):
    run = load_model(tiny_run_dir, device="cpu")
    assert next(run.model.parameters()).device == torch.device("cpu")


def test_cuda_without_a_gpu_is_a_user_error(tiny_run_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match=r"^--device cuda: CUDA is not available \(torch .*"):
        load_model(tiny_run_dir, device="cuda")


@pytest.mark.gpu
def test_model_loads_and_scores_on_cuda(tiny_run_dir):
    from xlstm_model.scoring import sequence_logprob

    cpu, cuda = load_model(tiny_run_dir, "cpu"), load_model(tiny_run_dir, "cuda")
    contexts, targets = ["the memory", "a gate"], [" is a matrix", " opens"]
    expected = sequence_logprob(cpu, contexts, targets)
    assert sequence_logprob(cuda, contexts, targets) == pytest.approx(expected, abs=1e-3)
