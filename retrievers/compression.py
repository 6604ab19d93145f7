"""Contextual compression: a wider similarity search, cut down to the relevant sentences.

LangChain's `ContextualCompressionRetriever` runs a `DocumentCompressorPipeline`:
sentences → drop near-duplicates (`EmbeddingsRedundantFilter`) → keep those similar enough to the
question (`EmbeddingsFilter`). When the filter would leave nothing, the best few sentences are kept
instead of handing the generator an empty context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_classic.retrievers.document_compressors import (
    DocumentCompressorPipeline,
    EmbeddingsFilter,
)
from langchain_community.document_transformers import EmbeddingsRedundantFilter
from langchain_community.document_transformers.embeddings_redundant_filter import (
    get_stateful_documents,
)
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import BaseDocumentTransformer, Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel

from retrievers.sentences import WHOLE_KINDS, SentenceSplitter
from retrievers.settings import RetrieverSettings
from retrievers.similarity import SimilarityRetriever, with_score


class RowKeepingRedundantFilter(BaseDocumentTransformer, BaseModel):
    """`EmbeddingsRedundantFilter` for prose; table rows pass unless their text repeats.

    Rows of one table embed almost alike (cosine > 0.95: same caption and columns, other
    values), so the embedding filter kept one row per table and dropped the row holding the
    asked value (dev: 11 of 14 Table 4 rows gone for a PALOMA question)."""

    inner: EmbeddingsRedundantFilter

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> list[Document]:
        docs = get_stateful_documents(documents)  # embedded once: the next filter reuses them
        vectors = self.inner.embeddings.embed_documents([d.page_content for d in docs])
        for doc, vector in zip(docs, vectors, strict=True):
            doc.state["embedded_doc"] = vector
        rows = [d for d in docs if d.metadata.get("kind") in WHOLE_KINDS]
        prose = [d for d in docs if d.metadata.get("kind") not in WHOLE_KINDS]
        seen: set[str] = set()
        unique_rows = [d for d in rows if not (d.page_content in seen or seen.add(d.page_content))]
        return [*self.inner.transform_documents(prose, **kwargs), *unique_rows]


def _pipeline(embeddings: Embeddings, settings: RetrieverSettings, threshold: float | None):
    relevance = (
        EmbeddingsFilter(
            embeddings=embeddings,
            similarity_threshold=threshold,
            k=settings.k * settings.sentences_per_document,
        )
        if threshold is not None
        else EmbeddingsFilter(embeddings=embeddings, k=settings.fallback_sentences)
    )
    return DocumentCompressorPipeline(
        transformers=[
            SentenceSplitter(),
            RowKeepingRedundantFilter(
                inner=EmbeddingsRedundantFilter(
                    embeddings=embeddings, similarity_threshold=settings.redundancy_threshold
                )
            ),
            relevance,
        ]
    )


class CompressionRetriever(BaseRetriever):
    """Sentences relevant to the question, from the `fetch_k` most similar chunks of the
    settings' `papers` (every paper when empty)."""

    inner: ContextualCompressionRetriever
    fallback: DocumentCompressorPipeline

    @classmethod
    def from_settings(
        cls, vectorstore: Any, embeddings: Embeddings, settings: RetrieverSettings
    ) -> CompressionRetriever:
        base = SimilarityRetriever(
            vectorstore=vectorstore, k=settings.fetch_k, papers=tuple(settings.papers)
        )
        inner = ContextualCompressionRetriever(
            base_compressor=_pipeline(embeddings, settings, settings.compression_threshold),
            base_retriever=base,
        )
        return cls(inner=inner, fallback=_pipeline(embeddings, settings, None))

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        chunks = self.inner.base_retriever.invoke(query)
        if not chunks:
            return []
        sentences = self.inner.base_compressor.compress_documents(chunks, query)
        if not sentences:
            sentences = self.fallback.compress_documents(chunks, query)
        return [_scored(doc, i + 1) for i, doc in enumerate(sentences)]


def _scored(doc: Any, rank: int) -> Document:
    """Plain Document with the sentence's cosine to the question as its score."""
    state = getattr(doc, "state", {})
    score = float(state.get("query_similarity_score", doc.metadata.get("score", 0.0)))
    plain = Document(page_content=doc.page_content, metadata=dict(doc.metadata))
    plain.metadata["chunk_score"] = doc.metadata.get("score")
    return with_score(plain, score, rank)
