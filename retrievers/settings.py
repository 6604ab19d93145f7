"""Settings shared by every retriever, so the side-by-side comparison is like for like."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RetrieverSettings:
    k: int = 5  # documents (chunks or sentences) handed to the answer generator
    fetch_k: int = 20  # wider candidate pool: compression input, MMR pool, hybrid lists
    use_mmr: bool = False  # similarity: maximal marginal relevance instead of plain top-k
    mmr_lambda: float = 0.5  # 1 = relevance only, 0 = diversity only
    compression_threshold: float = 0.35  # EmbeddingsFilter: min cosine(question, sentence)
    redundancy_threshold: float = 0.95  # EmbeddingsRedundantFilter: drop near-duplicates
    fallback_sentences: int = 3  # compression: best sentences kept when the filter empties
    # compression hands k x this many sentences: a sentence is about half a chunk (context
    # tokens, dev: 113 vs 219 at 1), so 2 keeps the side by side like for like in context
    sentences_per_document: int = 2
    # reciprocal-rank fusion constant (Cormack et al., 2009). 60 suits fusing many deep lists;
    # for two 20-deep lists it let chunks in the middle of both outrank the 2nd of one, and 5
    # measured better on the question set (hybrid answer F1 0.304 -> 0.313, MRR 0.780 -> 0.789).
    rrf_k: int = 5
    hybrid_max_overlap: float = 0.5  # hybrid: skip chunks sharing more word types (Jaccard)
    # papers searched: their `source` file names (as in chunk metadata and the question set's
    # `evidence`); empty = every paper in the store. Not `paper_id`: it changes on re-ingest.
    papers: tuple[str, ...] = ()
    # unscoped questions that name papers of the store ("the xLSTM paper", an arXiv id):
    # "filter" retrieves from those papers only, "boost" fuses their list with the unscoped one,
    # "off" ignores names (retrievers.named). Off by default: on the dev split with 28 papers,
    # "filter" lowered passage key terms (similarity 0.529 -> 0.500, compression 0.543 -> 0.514,
    # hybrid 0.571 -> 0.543; bench.scope_study): xLSTM questions name Mamba, FlashAttention, Llama
    named_papers: str = "off"
    # an unscoped question naming no paper is retrieved from the paper that holds at least this
    # share of the router's reciprocal-rank votes (dense + BM25 top `route_depth`); > 1 = never.
    # Dev split, 28-paper store (bench.scope_study): passage key terms unscoped 0.624 / 0.566
    # (similarity / compression) -> 0.700 / 0.615 with 0.3 and depth 20 (scoped: 0.795 / 0.697;
    # 0.2, 0.4-0.6 and depth 40 or 80 did less). Off by default all the same: every dev question
    # is about one paper, and a question comparing papers would be sent to one of them.
    route_share: float = 2.0
    route_depth: int = 20
