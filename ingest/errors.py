"""Errors raised by the ingest package; every message is one line naming the input and a fix."""

from __future__ import annotations


class IngestError(Exception):
    """Bad input (a file, URL or arXiv id) or a failed ingest step; the message is user-facing."""


class FetchError(IngestError):
    """A paper could not be found locally, in a mirror, or downloaded."""


class StoreError(IngestError):
    """The vector store cannot be opened or used as asked."""


class StoreBusyError(StoreError):
    """Another process holds the embedded store open."""


class EmbeddingMismatchError(StoreError):
    """The collection was built with a different embedding model or dimension."""
