"""Dense top-k (or MMR) retrieval over the Chroma store, with scores in the metadata."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from retrievers.scope import source_filter
from retrievers.settings import RetrieverSettings

logger = logging.getLogger(__name__)


def with_score(doc: Document, score: float, rank: int) -> Document:
    """A copy of `doc` whose metadata carries its retrieval score and 1-based rank."""
    metadata = {**doc.metadata, "score": round(float(score), 4), "rank": rank}
    return Document(page_content=doc.page_content, metadata=metadata, id=doc.id)


class SimilarityRetriever(BaseRetriever):
    """Top-k by cosine similarity (MiniLM embeddings), or MMR over a wider pool, within
    `papers` (their `source` file names; empty = every paper)."""

    vectorstore: Any
    k: int = 5
    fetch_k: int = 20
    use_mmr: bool = False
    mmr_lambda: float = 0.5
    papers: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, vectorstore: Any, settings: RetrieverSettings) -> SimilarityRetriever:
        return cls(
            vectorstore=vectorstore,
            k=settings.k,
            fetch_k=settings.fetch_k,
            use_mmr=settings.use_mmr,
            mmr_lambda=settings.mmr_lambda,
            papers=tuple(settings.papers),
        )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        pairs = self.vectorstore.similarity_search_with_relevance_scores(
            query,
            k=max(self.k, self.fetch_k) if self.use_mmr else self.k,
            filter=source_filter(self.papers),
        )
        if not self.use_mmr:
            return [with_score(doc, score, i + 1) for i, (doc, score) in enumerate(pairs)]
        return self._mmr(query, pairs)

    def _mmr(self, query: str, pairs: list[tuple[Document, float]]) -> list[Document]:
        """Re-select from the pool by MMR, keeping each document's relevance score."""
        by_text = {doc.page_content: score for doc, score in pairs}
        chosen = self.vectorstore.max_marginal_relevance_search(
            query,
            k=self.k,
            fetch_k=max(self.k, self.fetch_k),
            lambda_mult=self.mmr_lambda,
            filter=source_filter(self.papers),
        )
        return [
            with_score(doc, by_text.get(doc.page_content, 0.0), i + 1)
            for i, doc in enumerate(chosen)
        ]
