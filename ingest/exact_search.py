"""Exact nearest neighbours over the paper store: every visible chunk is scored, none is missed.

Chroma's HNSW index is approximate, and not only at the margin: a chunk far from all the others —
a two-page upload on another topic than the papers already stored — can be left without incoming
links by the neighbour pruning of the chunks around it, and then no search reaches it. The browser
test caught this as an upload that "nothing retrieved is about" once in a few runs. A paper
library is small (the 28 default papers hold ~10k chunks: 15 MB of float32 vectors, one matrix
product per question), so queries score all chunks exactly, in Chroma's own distance (cosine:
1 - cos), with Chroma's `get` evaluating the `where` filter.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

MAX_EXACT_CHUNKS = 200_000  # beyond this, the matrix (300 MB) is not worth it: use HNSW


class ExactIndex:
    """The chunks (ids, texts, metadata, unit vectors) admitted by each `where` filter, kept for
    the last `cache_size` filters; a filter names the visible paper ids, so a paper added or
    removed is a new filter, never a stale matrix. A store of more than `max_chunks` chunks
    is left to HNSW (`query` returns None), checked once per filter."""

    def __init__(
        self, collection: Any, cache_size: int = 8, max_chunks: int = MAX_EXACT_CHUNKS
    ) -> None:
        self._collection = collection
        self._max_chunks = max_chunks
        self._cache: OrderedDict[str, tuple] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def query(
        self,
        query_embeddings: Any,
        n_results: int,
        where: dict | None,
        include: Any = ("metadatas", "documents", "distances"),
    ) -> dict | None:
        """Chroma's `QueryResult` layout: one list per query, best first; None for a store too
        big to score exactly."""
        chunks = self._chunks(where)
        if chunks is None:
            return None
        ids, texts, metas, matrix = chunks
        queries = _unit(np.atleast_2d(np.asarray(query_embeddings, dtype=np.float32)))
        result: dict[str, Any] = {"ids": [], "documents": [], "metadatas": [], "distances": []}
        result["embeddings"] = [] if "embeddings" in include else None
        sims = queries @ matrix.T if len(ids) else np.zeros((len(queries), 0))  # (queries, chunks)
        for row in sims:
            top = np.argsort(-row, kind="stable")[:n_results]
            result["ids"].append([ids[i] for i in top])
            result["documents"].append([texts[i] for i in top])
            result["metadatas"].append([metas[i] for i in top])
            result["distances"].append([float(1.0 - row[i]) for i in top])
            if result["embeddings"] is not None:
                result["embeddings"].append(matrix[top])
        return result

    def _chunks(self, where: dict | None) -> tuple | None:
        key = json.dumps(where, sort_keys=True, default=str)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            self._cache[key] = None  # too big: counted once per filter, not per query
            if self._collection.count() <= self._max_chunks:
                include = ["embeddings", "documents", "metadatas"]
                got = self._collection.get(where=where, include=include)
                vectors = np.asarray(got["embeddings"], dtype=np.float32)
                matrix = _unit(vectors.reshape(len(got["ids"]), -1)) if len(got["ids"]) else vectors
                self._cache[key] = (list(got["ids"]), got["documents"], got["metadatas"], matrix)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return self._cache[key]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
