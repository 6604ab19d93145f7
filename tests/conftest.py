"""Suite-wide set-up: offline, no telemetry, the paper mirror, CUDA-only tests deselected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.tiny_model import train_tiny, write_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED_PAPERS = (REPO.parent / "shared" / "papers").resolve()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
if not os.environ.get("XRAG_PAPER_MIRRORS") and SHARED_PAPERS.is_dir():
    os.environ["XRAG_PAPER_MIRRORS"] = str(SHARED_PAPERS)


def mirror_pdf(name: str) -> Path | None:
    """A paper from the mirror folders, or None when no mirror has it."""
    for folder in os.environ.get("XRAG_PAPER_MIRRORS", "").split(os.pathsep):
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def pytest_configure(config: pytest.Config) -> None:
    """One intra-op thread: on a shared 2-core machine, small-tensor work with two OpenMP
    threads was measured over 10x slower (tests that need threads set them themselves)."""
    import torch

    torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def xlstm_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose store holds the real xLSTM paper (real MiniLM embeddings). Read-only."""
    pdf = mirror_pdf("xlstm-2405.04517v2.pdf")
    if pdf is None:
        pytest.skip("the paper mirror (../shared/papers) is absent")
    data = tmp_path_factory.mktemp("xlstm-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XRAG_DATA_DIR", str(data))
        from ingest.cli import main

        assert main([str(pdf)]) == 0
    return data


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
