"""Retrievers compared side by side: similarity, contextual compression, hybrid (BM25 + dense).

`build_retriever(name, store, settings)` builds any of them with the same settings, so the UI and
the evaluation compare like with like. Every returned Document keeps `source`, `title`, `page`,
`chunk_id` and carries a `score` (and `rank`) in its metadata.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from retrievers.cache import CachedEmbeddings
from retrievers.compression import CompressionRetriever
from retrievers.hybrid import BM25Index, HybridRetriever
from retrievers.settings import RetrieverSettings
from retrievers.similarity import SimilarityRetriever

RETRIEVER_NAMES = ("similarity", "compression", "hybrid")
RETRIEVER_LABELS = {
    "similarity": "Similarity",
    "compression": "Contextual compression",
    "hybrid": "Hybrid (BM25 + dense)",
}

__all__ = [
    "CachedEmbeddings",
    "RETRIEVER_LABELS",
    "RETRIEVER_NAMES",
    "BM25Index",
    "RetrieverSettings",
    "build_retriever",
]


def build_retriever(
    name: str,
    store: Any,
    settings: RetrieverSettings | None = None,
    bm25_index: BM25Index | None = None,
    embeddings: Embeddings | None = None,
) -> BaseRetriever:
    """The retriever called `name` over `store` (an `ingest.store.PaperStore`).

    Args:
        name: one of RETRIEVER_NAMES.
        store: the open paper store (its `.vectorstore` and `.embeddings` are used).
        settings: shared settings; defaults when None.
        bm25_index: a shared BM25 index to reuse across calls (hybrid only).
        embeddings: sentence embeddings for compression (e.g. a `CachedEmbeddings`);
            the store's own by default.
    """
    settings = settings or RetrieverSettings()
    if name == "similarity":
        return SimilarityRetriever.from_settings(store.vectorstore, settings)
    if name == "compression":
        return CompressionRetriever.from_settings(
            store.vectorstore, embeddings or store.embeddings, settings
        )
    if name == "hybrid":
        return HybridRetriever.from_settings(store, settings, bm25_index)
    msg = f"unknown retriever {name!r}; choose one of {', '.join(RETRIEVER_NAMES)}"
    raise ValueError(msg)
