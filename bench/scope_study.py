"""How much a library of papers costs retrieval, and what scoping wins back.

    python -m bench.scope_study --questions DEV.jsonl [--variant NAME=SETTINGS ...]

For every answerable question and retriever, under each variant of the retriever settings
(`scoped` = each question's evidence papers; the others unscoped with their own
`named_papers` / `route_share`), prints the share of the top-k passages that come from another
paper than the question's evidence, and the key terms found in the retrieved passages.
Retrieval only (no answers), so variants compare in seconds; `app.evaluate` gives the answers.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from app.errors import UserError
from app.key_terms import key_terms_in_passages
from app.question_set import Question, load_questions
from retrievers import RETRIEVER_NAMES, RetrieverSettings

DEFAULT_VARIANTS = (
    "scoped=scoped",
    "plain=named_papers:off",
    "named=named_papers:filter",
    "named+route0.5=named_papers:filter,route_share:0.5",
    "named+route0.6=named_papers:filter,route_share:0.6",
    "named+route0.7=named_papers:filter,route_share:0.7",
)


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """ "NAME=field:value,field:value" (or "NAME=scoped") -> (NAME, overrides)."""
    name, _, spec = text.partition("=")
    if spec == "scoped":
        return name, {"scoped": True}
    overrides: dict[str, Any] = {}
    types = {f.name: type(f.default) for f in dataclasses.fields(RetrieverSettings)}
    for item in filter(None, spec.split(",")):
        field, _, value = item.partition(":")
        if field not in types:
            raise UserError(f"--variant {text!r}: {field!r} is no retriever setting")
        overrides[field] = types[field](value)  # "80" -> 80 for route_depth, not "80"
    return name, overrides


def evidence_papers(q: Question) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(e["paper"]) for e in q.evidence if e.get("paper")))


def measure(questions: Sequence[Question], resources: Any, name: str, overrides: dict) -> dict:
    """Mean off-paper share of the top-k and key terms in the passages, over `questions`."""
    off, terms = [], []
    for q in questions:
        papers = evidence_papers(q)
        extra = dict(overrides)
        if extra.pop("scoped", False):
            extra["papers"] = papers
        docs = resources.retriever(name, None, **extra).invoke(q.question)
        sources = [d.metadata.get("source") for d in docs]
        off.append(sum(s not in papers for s in sources) / max(len(sources), 1))
        terms.append(key_terms_in_passages([d.page_content for d in docs], q.key_terms) or 0.0)
    n = max(len(questions), 1)
    return {"off_paper": sum(off) / n, "passage_key_terms": sum(terms) / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scope_study", description=__doc__)
    parser.add_argument("--questions", required=True, help="JSONL question set (dev split)")
    parser.add_argument("--retrievers", default=",".join(RETRIEVER_NAMES))
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=SETTINGS")
    args = parser.parse_args(argv)
    from app.resources import load_resources

    questions = [q for q in load_questions(args.questions) if q.answerable and q.evidence]
    variants = [parse_variant(v) for v in args.variant or DEFAULT_VARIANTS]
    try:
        resources = load_resources(require_model=False)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        print(f"{len(questions)} questions, {len(resources.store.list_papers())} papers")
        print(f"{'variant':18} {'retriever':12} {'off-paper':>9} {'passage key terms':>18}")
        for variant, overrides in variants:
            for name in args.retrievers.split(","):
                row = measure(questions, resources, name, overrides)
                print(
                    f"{variant:18} {name:12} {row['off_paper']:9.3f} "
                    f"{row['passage_key_terms']:18.3f}",
                    flush=True,
                )
    finally:
        resources.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
