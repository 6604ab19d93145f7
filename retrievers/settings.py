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
    # an unscoped question is retrieved from the paper that holds at least this share of the
    # router's reciprocal-rank votes (dense + BM25 top `route_depth`); > 1 = never. A question
    # naming two papers of the store compares them and is not routed. Dev split (127 questions,
    # 28-paper store, app.evaluate --unscoped), key terms similarity / compression: off 0.572 /
    # 0.602, 0.3 0.630 / 0.641, 0.621 / 0.646 with the router's best-chunk rule, 0.615 / 0.639
    # with each paper's best 3 chunks voting (scoped: 0.706 / 0.695).
    # Session 5's bench.scope_study: 0.2, 0.4-0.6 and depth 40 or 80 did less than 0.3 / 20.
    route_share: float = 0.3
    route_depth: int = 20
    # ... and at least this many times a paper's even share of the store (1.5 / 2 = 0.75 with
    # two papers, where 0.3 would send every question to one of them; 0.3 from 5 papers on)
    route_even_factor: float = 1.5
