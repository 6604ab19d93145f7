"""Retrievers compared side by side: similarity, contextual compression, hybrid (BM25 + dense).

`build_retriever(name, store, settings)` builds any of them with the same settings, so the UI and
the evaluation compare like with like. Every returned Document keeps `source`, `title`, `page`,
`chunk_id` and carries a `score` (and `rank`) in its metadata.

`settings.papers` scopes every retriever to some papers (their `source` file names); unscoped,
a question that names papers of the store is retrieved from them (`retrievers.named`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from retrievers.cache import CachedEmbeddings
from retrievers.compression import CompressionRetriever
from retrievers.hybrid import BM25Index, HybridRetriever
from retrievers.named import NAMED_PAPER_MODES, NamedPaperRetriever
from retrievers.routing import PaperRouter
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
    "NAMED_PAPER_MODES",
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

    Raises:
        ValueError: an unknown retriever name or `named_papers` mode.
    """
    settings = settings or RetrieverSettings()
    if name == "hybrid" and bm25_index is None:
        bm25_index = BM25Index(store)  # one index for every scope the question may take
    plain = _build(name, store, settings, bm25_index, embeddings)
    if settings.papers or (settings.named_papers == "off" and settings.route_share > 1):
        return plain
    if settings.named_papers not in NAMED_PAPER_MODES:
        modes = ", ".join(NAMED_PAPER_MODES)
        msg = f"unknown named_papers mode {settings.named_papers!r}; choose one of {modes}"
        raise ValueError(msg)

    def scoped(papers: tuple[str, ...]) -> BaseRetriever:
        within = dataclasses.replace(settings, papers=papers)
        return _build(name, store, within, bm25_index, embeddings)

    router = None
    if settings.route_share <= 1:
        index = bm25_index or BM25Index(store)
        router = PaperRouter(
            store.vectorstore,
            index,
            settings.route_depth,
            settings.rrf_k,
            settings.route_share,
            paper_count=lambda: len(store.list_papers()),
            even_factor=settings.route_even_factor,
        )
    return NamedPaperRetriever(
        unscoped=plain,
        scoped=scoped,
        list_papers=store.list_papers,
        mode=settings.named_papers,
        k=settings.k,
        router=router,
    )


def _build(
    name: str,
    store: Any,
    settings: RetrieverSettings,
    bm25_index: BM25Index | None,
    embeddings: Embeddings | None,
) -> BaseRetriever:
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
