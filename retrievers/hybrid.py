"""Hybrid retrieval: BM25 and dense similarity fused by reciprocal rank (RRF).

Numbers, table values and names like "xLSTM[7:1]" are lexical: BM25 finds them where MiniLM does
not; dense search finds paraphrases. RRF (Cormack et al., 2009) needs no score calibration.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from rank_bm25 import BM25Okapi

from ingest.words import STOP_WORDS, acronym_pairs, name_keys
from retrievers.settings import RetrieverSettings
from retrievers.similarity import SimilarityRetriever, with_score

# Keeps "2417.86", "xlstm[7:1]" → "xlstm", "7:1"; "1.3b"; hyphenated names split.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.:][0-9]+)*[a-z]*")


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens without stop words."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


@dataclass(frozen=True)
class _Snapshot:
    """One consistent view of the indexed chunks (replaced whole when the store changes)."""

    docs: list[Document] = field(default_factory=list)
    bm25: BM25Okapi | None = None
    by_position: dict[tuple[str, int], Document] = field(default_factory=dict)
    by_source: dict[str, list[int]] = field(default_factory=dict)  # positions in `docs`
    names: dict[str, set[str]] = field(default_factory=dict)  # source -> name keys, filled lazily
    acronyms: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> long -> short
    tables: dict[str, dict[str, list[Document]]] = field(
        default_factory=dict
    )  # source -> table -> rows

    @classmethod
    def build(cls, docs: list[Document]) -> _Snapshot:
        corpus = [bm25_tokens(d.page_content) for d in docs]
        by_source: dict[str, list[int]] = {}
        for i, doc in enumerate(docs):
            by_source.setdefault(str(doc.metadata.get("source")), []).append(i)
        return cls(
            docs=docs,
            bm25=BM25Okapi(corpus) if corpus else None,
            by_position={
                (str(d.metadata.get("source")), int(d.metadata.get("chunk_index", -1))): d
                for d in docs
            },
            by_source=by_source,
        )

    def positions(self, papers: Sequence[str]) -> Iterable[int]:
        """Positions of the chunks of `papers` (all positions when empty)."""
        if not papers:
            return range(len(self.docs))
        return [i for source in dict.fromkeys(papers) for i in self.by_source.get(source, [])]


class BM25Index:
    """A BM25 index over the store's complete papers, rebuilt when the store's version changes.

    One index serves every scope: a scoped search ranks only the chunks of its papers (term
    statistics stay those of the whole store, so a scope costs no rebuild).
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._version: str | None = None
        self._snapshot = _Snapshot()

    def search(
        self, query: str, k: int, papers: Sequence[str] = ()
    ) -> list[tuple[Document, float]]:
        """The `k` best chunks by BM25 (positive scores only) among those of `papers`."""
        snapshot = self._current()
        tokens = bm25_tokens(query)
        if snapshot.bm25 is None or not tokens:
            return []
        scores = snapshot.bm25.get_scores(tokens)
        order = sorted(snapshot.positions(papers), key=lambda i: -scores[i])[:k]
        return [(snapshot.docs[i], float(scores[i])) for i in order if scores[i] > 0]

    def chunk(self, source: str, chunk_index: int) -> Document | None:
        """The stored chunk at `chunk_index` of the paper file `source`, if any."""
        return self._current().by_position.get((source, chunk_index))

    def mentions(self, source: str, key: str) -> bool:
        """Whether the paper file `source` names `key` (an `ingest.words.name_key`) anywhere."""
        return key in self._per_source("names", source, _name_keys_of)

    def papers_mentioning(self, keys: Sequence[str]) -> list[str]:
        """The paper files that name every one of `keys` (`ingest.words.name_key`s)."""
        snapshot = self._current()  # once, not once per paper
        return [
            source
            for source in snapshot.by_source
            if set(keys) <= self._cached(snapshot, "names", source, _name_keys_of)
        ]

    def acronyms(self, source: str) -> dict[str, str]:
        """The acronyms the paper file `source` defines: long form → acronym ("Gated Linear
        Attention" → "GLA"), the first definition of each long form."""
        return self._per_source("acronyms", source, _acronyms_of)

    def tables(self, source: str) -> list[int]:
        """The numbers of the tables of the paper file `source` that have row units."""
        return sorted(int(n) for n in self._per_source("tables", source, _tables_of) if n.isdigit())

    def table_rows(self, source: str, table: int) -> list[Document]:
        """The row units of Table `table` of the paper file `source`, in table order."""
        return list(self._per_source("tables", source, _tables_of).get(str(table), []))

    def _per_source(self, cache: str, source: str, build: Callable[[list[Document]], Any]) -> Any:
        """`build(the chunks of source)`, computed once per snapshot and kept in its `cache`."""
        return self._cached(self._current(), cache, source, build)

    def _cached(
        self, snapshot: _Snapshot, cache: str, source: str, build: Callable[[list[Document]], Any]
    ) -> Any:
        with self._lock:
            kept = getattr(snapshot, cache)
            if source not in kept:
                kept[source] = build([snapshot.docs[i] for i in snapshot.by_source.get(source, [])])
            return kept[source]

    def _current(self) -> _Snapshot:
        with self._lock:
            version = self._store.version()
            if version != self._version:
                self._snapshot = _Snapshot.build(self._store.all_documents())
                self._version = version
            return self._snapshot


def _name_keys_of(docs: list[Document]) -> set[str]:
    return set().union(*(name_keys(d.page_content) for d in docs))


def _acronyms_of(docs: list[Document]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for doc in docs:
        for long, short in acronym_pairs(doc.page_content):
            pairs.setdefault(long, short)
    return pairs


def _tables_of(docs: list[Document]) -> dict[str, list[Document]]:
    """Table number → its row units in table order; not a figure's data table ("Figure 7"
    shares its numbers with Table 7)."""
    grouped: dict[str, list[Document]] = {}
    for doc in docs:
        table_name = str(doc.metadata.get("table_name", "Table"))
        if doc.metadata.get("kind") == "table_row" and table_name.startswith("Table"):
            grouped.setdefault(str(doc.metadata.get("table")), []).append(doc)
    for rows in grouped.values():
        rows.sort(key=lambda d: int(d.metadata.get("chunk_index", 0)))
    return grouped


def _key(doc: Document) -> str:
    return str(doc.metadata.get("chunk_id") or doc.id or doc.page_content)


class HybridRetriever(BaseRetriever):
    """Top-k of BM25 ∪ dense by reciprocal-rank fusion; score = the fused RRF score. Both
    lists come from `papers` (their `source` file names; every paper when empty)."""

    dense: SimilarityRetriever
    index: Any
    papers: tuple[str, ...] = ()
    k: int = 5
    fetch_k: int = 20
    rrf_k: int = 60
    max_overlap: float = 0.5  # word-type Jaccard above which a lower-ranked chunk is a near-copy

    @classmethod
    def from_settings(
        cls, store: Any, settings: RetrieverSettings, index: BM25Index | None = None
    ) -> HybridRetriever:
        papers = tuple(settings.papers)
        dense = SimilarityRetriever(
            vectorstore=store.vectorstore, k=settings.fetch_k, papers=papers
        )
        return cls(
            dense=dense,
            index=index or BM25Index(store),
            papers=papers,
            k=settings.k,
            fetch_k=settings.fetch_k,
            rrf_k=settings.rrf_k,
            max_overlap=settings.hybrid_max_overlap,
        )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        lexical = [doc for doc, _ in self.index.search(query, self.fetch_k, self.papers)]
        dense = self.dense.invoke(query)
        fused, first_seen = reciprocal_rank_fusion([lexical, dense], self.rrf_k)
        ranked = sorted(fused, key=lambda key: -fused[key])
        best = _without_near_duplicates(ranked, first_seen, self.k, self.max_overlap)
        return [with_score(first_seen[key], fused[key], i + 1) for i, key in enumerate(best)]


def reciprocal_rank_fusion(
    rankings: list[list[Document]], rrf_k: int
) -> tuple[dict[str, float], dict[str, Document]]:
    """RRF (Cormack et al., 2009): each document scores sum 1 / (rrf_k + rank) over the rankings
    it appears in. Returns (score by chunk key, first document seen per key)."""
    fused: dict[str, float] = {}
    first_seen: dict[str, Document] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            key = _key(doc)
            fused[key] = fused.get(key, 0.0) + 1.0 / (rrf_k + rank)
            first_seen.setdefault(key, doc)
    return fused, first_seen


def _without_near_duplicates(
    ranked: list[str], docs: dict[str, Document], k: int, max_overlap: float
) -> list[str]:
    """The first `k` keys whose documents share at most `max_overlap` of their word types
    (Jaccard) with every document kept before them: papers repeat a paragraph across appendix
    sections, and three copies of it would crowd other evidence out of the top k."""
    kept: list[str] = []
    kept_words: list[set[str]] = []
    for key in ranked:
        words = set(bm25_tokens(docs[key].page_content))
        if all(_jaccard(words, other) <= max_overlap for other in kept_words):
            kept.append(key)
            kept_words.append(words)
            if len(kept) == k:
                break
    return kept


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
