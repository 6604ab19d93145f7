"""`python -m app.ask "question" [--retriever NAME|all] [--paper ID ...] [--json]`: answers with
page citations."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from app.answer import MODES, Answer, answer_question
from app.errors import UserError
from app.settings import answer_settings, parse_overrides
from app.validation import check_question
from retrievers import RETRIEVER_LABELS, RETRIEVER_NAMES
from retrievers.scope import UnknownPaperError, resolve_papers


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.ask", description=__doc__)
    parser.add_argument("question", help="a question about the ingested papers")
    parser.add_argument(
        "--retriever",
        default="similarity",
        choices=[*RETRIEVER_NAMES, "all"],
        help="which retriever answers (default: similarity; all = side by side)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--k", type=int, default=None, help="documents to retrieve")
    parser.add_argument("--mode", choices=MODES, default=None, help="answer mode")
    parser.add_argument("--model", default=None, help="trained run directory")
    parser.add_argument(
        "--paper",
        action="append",
        default=[],
        metavar="ID",
        help="search only this paper (paper_id, file name, arXiv id or title; repeatable; "
        "see python -m ingest --list)",
    )
    parser.add_argument("--device", default="cpu", help="where the model runs: cpu, cuda, auto")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an answer setting, e.g. --set short_source=rules+xlstm",
    )
    return parser.parse_args(argv)


def answer_json(answer: Answer) -> dict:
    """The per-retriever object of the `--json` output."""
    return {
        "answer": answer.text,
        "short_answer": answer.short_answer,
        "short_answer_by": answer.short_answer_by,
        "refused": answer.refused,
        "citations": [dataclasses.asdict(c) for c in answer.citations],
        "sources": [
            {"paper": s.paper, "page": s.page, "score": s.score, "text": s.text}
            for s in answer.sources
        ],
        "read": [{"paper": s.paper, "page": s.page, "text": s.text} for s in answer.read],
        "latency_ms": answer.latency_ms,
    }


def print_text(name: str, answer: Answer) -> None:
    print(f"== {RETRIEVER_LABELS[name]} ({answer.latency_ms['total']:.0f} ms)")
    print(answer.text)
    pages = sorted({(s.paper, s.page) for s in [*answer.sources, *answer.read]})
    print("sources: " + ", ".join(f"{paper} p. {page}" for paper, page in pages))
    print()


def paper_scope(store: Any, wanted: list[str]) -> tuple[str, ...]:
    """The `source` names of the papers `--paper` asks for (empty: every paper)."""
    try:
        return resolve_papers(store, wanted)
    except UnknownPaperError as e:
        raise UserError(str(e)) from e


def run(args: argparse.Namespace) -> int:
    from app.resources import load_resources

    question = check_question(args.question)
    flags = {"mode": args.mode, "k": args.k}  # --mode and --k win over --set
    overrides = parse_overrides(args.set) | {n: v for n, v in flags.items() if v is not None}
    names = list(RETRIEVER_NAMES) if args.retriever == "all" else [args.retriever]
    resources = load_resources(model_dir=args.model, device=args.device)
    try:
        resources.require_papers()
        settings = answer_settings(overrides, resources.settings)
        if settings.mode != "extractive":
            resources.generator.require_model()
        papers = paper_scope(resources.store, args.paper)
        answers = {
            name: answer_question(
                question,
                resources.retriever(name, settings.k, papers=papers),
                resources.generator,
                settings,
            )
            for name in names
        }
    finally:
        resources.close()
    if args.json:
        out = {"question": question, "results": {n: answer_json(a) for n, a in answers.items()}}
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for name, answer in answers.items():
            print_text(name, answer)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
