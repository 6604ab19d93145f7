"""Unscoped retrieval that prefers the papers a question names ("the xLSTM paper", "in Mamba").

`build_retriever` wraps every unscoped retriever in `NamedPaperRetriever`: when the question
names papers of the store (`retrievers.scope.papers_named`), the answer comes from a retriever
scoped to them ("filter"), or from both lists fused by reciprocal rank so strong evidence from
other papers can still come through ("boost"). With a `PaperRouter`, the paper that dominates
the question's unscoped neighbours joins the named ones (a question naming "Mamba" about the
xLSTM paper's Table 1 still reaches that table), and a question naming no paper is retrieved from
it alone; a question that names none and that no paper dominates is retrieved from every paper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from retrievers.scope import papers_named

logger = logging.getLogger(__name__)

NAMED_PAPER_MODES = ("filter", "boost", "off")


def _key(doc: Document) -> tuple[str, str]:
    return (str(doc.metadata.get("chunk_id") or doc.id or ""), doc.page_content)


def fuse_scoped(scoped: list[Document], unscoped: list[Document], k: int) -> list[Document]:
    """The first `k` of both lists by reciprocal rank (constant 1: ranks dominate), the scoped
    list first on ties; a document in both keeps its scoped copy and sums both terms."""
    scores: dict[tuple[str, str], float] = {}
    first: dict[tuple[str, str], Document] = {}
    for ranking in (scoped, unscoped):
        for rank, doc in enumerate(ranking, start=1):
            key = _key(doc)
            scores[key] = scores.get(key, 0.0) + 1.0 / (1 + rank)
            first.setdefault(key, doc)
    order = sorted(first, key=lambda key: -scores[key])[:k]
    return [_reranked(first[key], i + 1) for i, key in enumerate(order)]


def _reranked(doc: Document, rank: int) -> Document:
    return Document(
        page_content=doc.page_content, metadata={**doc.metadata, "rank": rank}, id=doc.id
    )


class NamedPaperRetriever(BaseRetriever):
    """`unscoped`, except for questions that name papers of the store (see module doc)."""

    unscoped: BaseRetriever
    scoped: Callable[[tuple[str, ...]], BaseRetriever]  # a retriever limited to these papers
    list_papers: Callable[[], list[Any]]  # the store's papers (`PaperInfo`)
    mode: str = "filter"
    k: int = 5
    router: Any = None  # a `retrievers.routing.PaperRouter` for questions naming no paper

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        names = papers_named(query, self.list_papers()) if self.router or self.mode != "off" else ()
        named = names if self.mode != "off" else ()
        # a question naming two papers compares them: it is not routed to one
        routed = self.router.route(query) if self.router is not None and len(names) < 2 else ()
        papers = tuple(dict.fromkeys(named + routed))
        if not papers:
            return self.unscoped.invoke(query)
        logger.info("retrieving from %s (named: %s)", ", ".join(papers), ", ".join(named) or "-")
        scoped = self.scoped(papers).invoke(query)
        if named and self.mode == "boost":
            return fuse_scoped(scoped, self.unscoped.invoke(query), self.k)
        return scoped or self.unscoped.invoke(query)
