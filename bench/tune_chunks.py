"""Choose chunk sizes by retrieval quality: `python -m bench.tune_chunks`.

For each chunk size, chunks the papers the questions cite (extracted once), embeds them with the
store's model and ranks chunks for every evidence-labelled question by dense similarity, BM25
and their reciprocal-rank fusion. A question is a hit at k when one of the top-k chunks lies on
an evidence page; MRR uses the rank of the first such chunk.

Questions: JSON lines with `question` and `evidence: [{"paper": file name, "page": n}]`,
by default the evaluation set `app/questions/xlstm_v2.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest import paths
from ingest.chunking import PaperMeta, chunk_pages
from ingest.embeddings import load_embeddings
from ingest.fetch import find_local
from ingest.pdf_text import PageText, read_pdf
from retrievers.hybrid import bm25_tokens  # the hybrid retriever's own BM25 tokens

DEFAULT_QUESTIONS = paths.REPO_ROOT / "app" / "questions" / "xlstm_v2.jsonl"


@dataclass(frozen=True)
class Question:
    text: str
    evidence: frozenset[tuple[str, int]]  # (paper file name, page)


def load_questions(path: Path) -> list[Question]:
    """Questions that have evidence pages."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        evidence = frozenset((e["paper"], int(e["page"])) for e in item.get("evidence") or [])
        if evidence:
            questions.append(Question(item["question"], evidence))
    return questions


def _ranks(scores: np.ndarray) -> list[int]:
    return list(np.argsort(-scores, kind="stable"))


def _rrf(*rankings: list[int], k: int = 60, depth: int = 20) -> list[int]:
    # k = 60: the constant the README's chunk-size table was measured with; the hybrid
    # retriever now fuses with RetrieverSettings.rrf_k (5).
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking[:depth], start=1):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda i: -fused[i])


def _score(rankings: list[list[int]], keys: list[tuple[str, int]], questions, k: int) -> dict:
    hits, rr = 0, 0.0
    for ranking, q in zip(rankings, questions, strict=True):
        first = next((r for r, idx in enumerate(ranking, 1) if keys[idx] in q.evidence), math.inf)
        hits += first <= k
        rr += 0.0 if first == math.inf else 1.0 / first
    return {"hit": hits / len(questions), "mrr": rr / len(questions)}


def evaluate_size(pages, questions, embeddings, size: int, overlap: int, k: int) -> dict:
    """Hit@k and MRR of dense, BM25 and hybrid retrieval for one chunking."""
    from rank_bm25 import BM25Okapi

    docs = []
    for name, paper_pages in pages.items():
        meta = PaperMeta("tune", name, "", name, "", len(paper_pages))
        docs += chunk_pages(paper_pages, meta, size, overlap)
    keys = [(d.metadata["source"], d.metadata["page"]) for d in docs]
    t0 = time.perf_counter()
    vectors = np.array(embeddings.embed_documents([d.page_content for d in docs]))
    queries = np.array([embeddings.embed_query(q.text) for q in questions])
    embed_s = time.perf_counter() - t0
    bm25 = BM25Okapi([bm25_tokens(d.page_content) for d in docs])
    dense = [_ranks(vectors @ q) for q in queries]
    lexical = [_ranks(np.asarray(bm25.get_scores(bm25_tokens(q.text)))) for q in questions]
    hybrid = [_rrf(d, b) for d, b in zip(dense, lexical, strict=True)]
    return {
        "size": size,
        "overlap": overlap,
        "chunks": len(docs),
        "embed_s": embed_s,
        "dense": _score(dense, keys, questions, k),
        "bm25": _score(lexical, keys, questions, k),
        "hybrid": _score(hybrid, keys, questions, k),
    }


def _pages_for(questions: list[Question]) -> dict[str, list[PageText]]:
    names = sorted({paper for q in questions for paper, _ in q.evidence})
    pages = {}
    for name in names:
        path = find_local(name)
        if path is None:
            print(f"skipping evidence from {name}: not in data/papers or a mirror")
            continue
        pages[name] = read_pdf(path).pages
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tune_chunks", description=__doc__)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--sizes", default="300,500,800,1200")
    parser.add_argument("--overlap", type=float, default=0.2, help="overlap as a share of size")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        print(f"no question file at {args.questions}; keeping the 500/100 defaults")
        return 1
    questions = load_questions(args.questions)
    pages = _pages_for(questions)
    questions = [q for q in questions if any(p in pages for p, _ in q.evidence)]
    if not questions:
        print("no question cites an available paper")
        return 1
    embeddings = load_embeddings()
    print(f"{len(questions)} questions, k={args.k}; hit@k / MRR")
    print(f"{'size':>5} {'overlap':>7} {'chunks':>6}  {'dense':>13}  {'bm25':>13}  {'hybrid':>13}")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        r = evaluate_size(pages, questions, embeddings, size, int(size * args.overlap), args.k)
        results.append(r)
        cells = "  ".join(
            f"{r[m]['hit']:.2f} / {r[m]['mrr']:.2f}" for m in ("dense", "bm25", "hybrid")
        )
        print(f"{size:5d} {r['overlap']:7d} {r['chunks']:6d}  {cells}   ({r['embed_s']:.0f} s)")
    best = max(results, key=lambda r: (r["hybrid"]["mrr"], r["hybrid"]["hit"]))
    print(f"best by hybrid MRR: chunk_size={best['size']} chunk_overlap={best['overlap']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
