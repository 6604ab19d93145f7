"""Which paper an unscoped question that names none is most likely about (paper routing).

In a library of papers a question is nearly always about one of them. The router pools the
dense top-N and the BM25 top-N chunks of the whole store, gives each paper the reciprocal-rank
votes of its best chunks (`paper_votes`), and names the paper holding at least `min_share` of
all votes (and `even_factor` times its even share of the store's papers) that also holds the
best chunk of the dense or the BM25 list (a big paper collects votes by its many chunks alone);
the question is then retrieved from that paper alone. Before the votes, the question's specific
names ("FSDP", "RWKV-4", "sLSTM") count: when one paper alone writes them all, the question goes
to it; when two or three do and the votes name none of them, to those few. Questions no paper
dominates stay unscoped, and so do questions naming two papers (`retrievers.named`: they
compare them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.documents import Document

from ingest.words import name_key, specific_names

logger = logging.getLogger(__name__)
_MAX_NAMING = 3  # at most this many papers writing the question's names scope it together


def paper_votes(
    rankings: Sequence[Sequence[Document]], rrf_k: float, per_paper: int = 3
) -> dict[str, float]:
    """Per paper (`source`), the sum of 1 / (rrf_k + rank) over its best `per_paper` chunks in
    every ranking: a paper's votes say how well it matches, not how many chunks it has (a
    two-page upload holding both lists' best chunks got 11 % of the votes when all counted)."""
    votes: dict[str, float] = {}
    for ranking in rankings:
        counted: dict[str, int] = {}
        for rank, doc in enumerate(ranking, start=1):
            source = str(doc.metadata.get("source", ""))
            counted[source] = counted.get(source, 0) + 1
            if counted[source] <= per_paper:
                votes[source] = votes.get(source, 0.0) + 1.0 / (rrf_k + rank)
    return votes


def dominant_paper(votes: dict[str, float], min_share: float) -> str | None:
    """The paper holding at least `min_share` of all votes (and the most), or None."""
    total = sum(votes.values())
    if not votes or total <= 0:
        return None
    best = max(votes, key=lambda source: votes[source])
    return best if votes[best] / total >= min_share else None


class PaperRouter:
    """Routes a question to the paper that alone writes its names, else to the paper its dense
    and lexical neighbours come from, else to the few papers that write its names."""

    def __init__(
        self,
        vectorstore: Any,
        index: Any,
        depth: int = 40,
        rrf_k: float = 5,
        min_share: float = 0.6,
        paper_count: Callable[[], int] | None = None,
        even_factor: float = 1.5,
    ) -> None:
        self.vectorstore = vectorstore
        self.index = index  # a BM25Index, or None for dense votes only
        self.depth = depth
        self.rrf_k = rrf_k
        self.min_share = min_share
        self.paper_count = paper_count  # papers in the store (None: `min_share` alone)
        self.even_factor = even_factor

    def share_needed(self) -> float:
        """`min_share`, and at least `even_factor` times a paper's even share of the store:
        with 2 papers a question about both would otherwise always go to one of them."""
        count = self.paper_count() if self.paper_count is not None else 0
        return max(self.min_share, self.even_factor / count) if count else self.min_share

    def rankings(self, query: str) -> list[list[Document]]:
        """The dense and the BM25 top `depth` chunks of the whole store."""
        dense = [
            doc for doc, _ in self.vectorstore.similarity_search_with_score(query, k=self.depth)
        ]
        lexical = [doc for doc, _ in self.index.search(query, self.depth)] if self.index else []
        return [dense, lexical]

    def votes(self, query: str) -> dict[str, float]:
        return paper_votes(self.rankings(query), self.rrf_k)

    def papers_naming(self, query: str) -> list[str]:
        """The papers, of several, that name every specific name of the question ("FSDP",
        "RWKV-4", "xLSTM[7:1]"); [] when it names none or there is one paper only."""
        words = [w.strip(".,;:?!()'\"") for w in query.split()]  # "RWKV-4" whole, not "RWKV"
        keys = list(dict.fromkeys(name_key(w) for w in words if specific_names(w)))
        if not keys or self.index is None or not hasattr(self.index, "papers_mentioning"):
            return []
        if self.paper_count is not None and self.paper_count() < 2:
            return []
        return self.index.papers_mentioning(keys)

    def route(self, query: str) -> tuple[str, ...]:
        """The one paper the question is about, or () when none dominates."""
        if self.min_share > 1:
            return ()
        naming = self.papers_naming(query)
        if len(naming) == 1:  # the one paper that names what the question names
            logger.info("routing the question to %s, the one paper naming its names", naming[0])
            return (naming[0],)
        rankings = self.rankings(query)
        paper = dominant_paper(paper_votes(rankings, self.rrf_k), self.share_needed())
        # a big paper collects votes by its many chunks alone: it must also hold a best chunk
        firsts = {str(ranking[0].metadata.get("source", "")) for ranking in rankings if ranking}
        paper = paper if paper in firsts else None
        if not paper and 1 < len(naming) <= _MAX_NAMING:  # a few papers name them all
            logger.info("routing the question to %s, the papers naming its names", naming)
            return tuple(naming)
        if paper:
            logger.info("routing the question to %s", paper)
        return (paper,) if paper else ()
