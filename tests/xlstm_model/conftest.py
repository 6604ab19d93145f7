"""Model-test fixtures; the tiny trained run and its corpus live in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test writes runtime state (caches, default runs) under its tmp_path."""
    monkeypatch.setenv("XRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("XRAG_PAPER_MIRRORS", raising=False)
