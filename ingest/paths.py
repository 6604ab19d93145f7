"""Where runtime state lives: `data/` in the repo, or `$XRAG_DATA_DIR` when set."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Root of all runtime state (store, fetched papers, trained models)."""
    return Path(os.environ.get("XRAG_DATA_DIR") or REPO_ROOT / "data").expanduser().resolve()


def chroma_dir() -> Path:
    """Folder of the embedded (persistent) Chroma store."""
    return data_dir() / "chroma"


def papers_dir() -> Path:
    """Fetched and uploaded PDFs."""
    return data_dir() / "papers"


def models_dir() -> Path:
    """Trained language-model run directories."""
    return data_dir() / "models"


def default_model_dir() -> Path:
    """The run directory `make train` writes and the app loads by default."""
    return models_dir() / "default"


def paper_mirrors() -> list[Path]:
    """Mirror folders from `$XRAG_PAPER_MIRRORS` (colon-separated), existing ones only."""
    raw = os.environ.get("XRAG_PAPER_MIRRORS", "")
    return [
        Path(p).expanduser() for p in raw.split(os.pathsep) if p and Path(p).expanduser().is_dir()
    ]
