"""Key terms in the retrieved passages: does retrieval find what answers a question?

    python -m bench.retrieval_check [--questions FILE] [--split dev] [--k 5]
        [--retrievers similarity,compression,hybrid] [--show-kinds] [--query TEXT ...]

For each answerable question of the split, the share of its `key_terms` that appear in the
top-k retrieved passages (each term within one passage, as `app.evaluate` counts it), averaged
per retriever and per question type; with `--query`, the top-k passages (kind, page, text) of
each query instead. Measures the store in `$XRAG_DATA_DIR` (default `data/`); needs no trained
model.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Sequence

from app.key_terms import key_terms_in_passages
from app.question_set import Question, load_questions, select_split

DEFAULT_QUESTIONS = "app/questions/xlstm_v2.jsonl"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default=DEFAULT_QUESTIONS)
    parser.add_argument("--split", default="dev", help="dev (default), test or all")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--retrievers", default="similarity,compression,hybrid")
    parser.add_argument("--show-kinds", action="store_true", help="count retrieved unit kinds")
    parser.add_argument("--query", nargs="+", help="show the top passages of these queries")
    args = parser.parse_args(argv)
    from app.resources import load_resources

    if args.query:
        resources = load_resources(require_model=False)
        try:
            return _show(resources, args)
        finally:
            resources.close()

    questions = [
        q
        for q in select_split(load_questions(args.questions), args.split)
        if q.answerable and q.key_terms
    ]
    resources = load_resources(require_model=False)
    try:
        print(f"{len(questions)} answerable {args.split} questions, top {args.k}")
        for name in args.retrievers.split(","):
            print(report(resources.retriever(name, args.k), name, questions, args))
    finally:
        resources.close()
    return 0


def report(retriever, name: str, questions: Sequence[Question], args: argparse.Namespace) -> str:
    """One retriever's line: key terms in the top k, overall and by question type."""
    by_type: dict[str, list[float]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    for q in questions:
        docs = retriever.invoke(q.question)[: args.k]
        kinds.update(d.metadata.get("kind", "?") for d in docs)
        share = key_terms_in_passages([d.page_content for d in docs], q.key_terms)
        by_type[q.type].append(share or 0.0)
    scores = [s for values in by_type.values() for s in values]
    types = ", ".join(f"{t} {sum(v) / len(v):.2f} (n={len(v)})" for t, v in sorted(by_type.items()))
    line = f"{name}: key terms in top {args.k} = {sum(scores) / max(len(scores), 1):.3f}; {types}"
    if args.show_kinds:
        line += f"\n  kinds retrieved: {dict(kinds.most_common())}"
    return line


def _show(resources, args: argparse.Namespace) -> int:
    for query in args.query:
        for name in args.retrievers.split(","):
            print(f"== {name}: {query}")
            for doc in resources.retriever(name, args.k).invoke(query)[: args.k]:
                meta = doc.metadata
                print(f"  [{meta.get('kind', '?')} p{meta.get('page')}] {doc.page_content[:150]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
