"""Choose answer settings on the dev split: a grid of `--set` values, retrieval done once.

    python -m bench.tune_answers [--split dev] [--retrievers similarity,compression]
        [--grid margin=0.04,0.1] [--grid max_sentences=2,3] [--set mode=extractive]
        [--model-dir RUN] [--out FILE]

Every combination of the `--grid` values (on top of the `--set` ones) answers every question of
the split with every retriever; the retrieved documents are cached per (retriever, k, question),
so a combination costs only the reading. Prints one line per combination: key terms (all,
numeric), words per answer, unanswerable refused and false refusals per retriever, sorted by the
mean key terms of the retrievers. Tune here on `dev`; report `test` with `app.evaluate`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from typing import Any

from app.errors import UserError
from app.question_set import DEFAULT_QUESTIONS, Question, load_questions, scope_papers, select_split
from app.settings import answer_settings, parse_overrides

DEFAULT_RETRIEVERS = "similarity,compression"


class CachedRetriever:
    """A retriever whose answers are kept per query (the answer path calls `invoke` only)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.cache = inner, {}

    def invoke(self, query: str) -> list:
        if query not in self.cache:
            self.cache[query] = self.inner.invoke(query)
        return self.cache[query]


def parse_grid(items: Sequence[str]) -> list[dict[str, Any]]:
    """`["margin=0.04,0.1", "k=5,8"]` → every combination as an overrides dict."""
    axes = []
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise UserError(f"--grid {item!r}: expected NAME=V1,V2,...")
        axes.append([(name, v) for v in values.split(",")])
    return [
        parse_overrides([f"{n}={v}" for n, v in combo]) for combo in itertools.product(*axes)
    ] or [{}]


def score_rows(rows: Sequence[dict]) -> dict[str, float]:
    """Key terms (all answerable, numeric), words per answer, refusals of one retriever."""
    from app.report import summarize_rows

    s = summarize_rows(rows)
    keys = ("key_terms", "key_terms_numeric", "words_per_answer", "refusal_accuracy")
    return {k: s[k] for k in (*keys, "false_refusal_rate")}


def run_grid(
    questions: Sequence[Question],
    resources: Any,
    retrievers: Sequence[str],
    grid: list[dict],
    base: dict[str, Any],
) -> list[dict]:
    """One result per grid point: its overrides and the scores per retriever."""
    from app.answer import answer_question
    from app.evaluate import question_row

    scopes = scope_papers(questions)
    cached: dict[tuple, CachedRetriever] = {}
    results = []
    for overrides in grid:
        settings = answer_settings({**base, **overrides}, resources.settings)
        scores = {}
        for name in retrievers:
            rows = []
            for q in questions:
                key = (name, settings.k, settings.compression_threshold, scopes.get(q.id, ()))
                if key not in cached:
                    scope = {"papers": key[3]} if key[3] else {}
                    cut = settings.compression_threshold
                    inner = resources.retriever(
                        name, settings.k, compression_threshold=cut, **scope
                    )
                    cached[key] = CachedRetriever(inner)
                answer = answer_question(q.question, cached[key], resources.generator, settings)
                rows.append(question_row(q, name, answer))
            scores[name] = score_rows(rows)
        results.append({"overrides": overrides, "scores": scores})
    return results


def format_line(result: dict) -> str:
    parts = [" ".join(f"{k}={v}" for k, v in result["overrides"].items()) or "(defaults)"]
    for name, s in result["scores"].items():
        parts.append(
            f"{name[:4]} kt {s['key_terms']:.3f} num {s['key_terms_numeric'] or 0:.3f} "
            f"w {s['words_per_answer'] or 0:.0f} ref {s['refusal_accuracy'] or 0:.2f} "
            f"false {s['false_refusal_rate'] or 0:.3f}"
        )
    return " | ".join(parts)


def mean_key_terms(result: dict) -> float:
    values = [s["key_terms"] or 0.0 for s in result["scores"].values()]
    return sum(values) / len(values)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--retrievers", default=DEFAULT_RETRIEVERS)
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--model-dir", default=None, help="trained run (default: data/models/default)"
    )
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    try:
        grid, base = parse_grid(args.grid), parse_overrides(args.set)
        questions = select_split(load_questions(args.questions), args.split)
        from app.resources import load_resources

        mode = answer_settings(base).mode
        resources = load_resources(model_dir=args.model_dir, require_model=mode != "extractive")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        results = run_grid(questions, resources, args.retrievers.split(","), grid, base)
    finally:
        resources.close()
    for result in sorted(results, key=mean_key_terms, reverse=True):
        print(format_line(result))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
