"""A read-only `langchain_chroma.Chroma` over the paper store that sees complete papers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_chroma import Chroma
from langchain_core.documents import Document

from ingest.errors import StoreError
from ingest.exact_search import ExactIndex

_READ_ONLY = (
    "the paper store's vectorstore is read-only; add papers with `python -m ingest` or "
    "ingest.pipeline.ingest_sources, remove them with PaperStore.remove_paper"
)


def _combine(where: dict | None, visible: dict) -> dict:
    return visible if not where else {"$and": [where, visible]}


class PaperVectorStore(Chroma):
    """Every query (similarity, MMR, by vector, `get`) is limited to chunks of complete papers.

    The filter comes from the paper registry at query time, so a paper being ingested, or one
    just replaced by a newer version, is never returned. Similarity queries are exact
    (`ingest.exact_search`): Chroma's HNSW graph can leave an outlying chunk unreachable.
    """

    def __init__(self, *, visible_filter: Callable[[], dict], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._visible_filter = visible_filter
        self._exact = ExactIndex(self._collection)

    # Chroma routes every similarity/MMR query through this private method.
    def _Chroma__query_collection(
        self,
        query_texts: list[str] | None = None,
        query_embeddings: list[list[float]] | None = None,
        n_results: int = 4,
        where: dict | None = None,
        where_document: dict | None = None,
        **kwargs: Any,
    ) -> Any:
        where = _combine(where, self._visible_filter())
        if query_embeddings is not None and where_document is None:  # HNSW can miss outliers
            exact = self._exact.query(query_embeddings, n_results, where, **kwargs)
            if exact is not None:
                return exact
        return self._collection.query(
            query_texts=query_texts,
            query_embeddings=query_embeddings,
            n_results=n_results,
            where=where,
            where_document=where_document,
            **kwargs,
        )

    def get(self, ids=None, where=None, limit=None, offset=None, where_document=None, include=None):
        return super().get(
            ids=ids,
            where=_combine(where, self._visible_filter()),
            limit=limit,
            offset=offset,
            where_document=where_document,
            include=include,
        )

    def get_by_ids(self, ids, /) -> list[Document]:
        result = self.get(ids=list(ids))
        return [
            Document(page_content=text, metadata=meta or {}, id=doc_id)
            for doc_id, text, meta in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        ]

    def hybrid_search(self, search: Any) -> list[Document]:
        msg = "hybrid_search is not supported on the paper store; use retrievers.build_retriever"
        raise StoreError(msg)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError(_READ_ONLY)

    add_texts = add_images = add_documents = _refuse
    update_document = update_documents = delete = _refuse
    delete_collection = reset_collection = fork = _refuse
