"""Fixtures for the measurement-tool tests: the ingest tests' private data dir."""

from tests.ingest.conftest import data_dir

__all__ = ["data_dir"]
