"""Batch evaluation: every question through every retriever, with extractive baselines.

    python -m app.evaluate --questions app/questions/xlstm_v2.jsonl --out eval-out \
        [--split dev|test|all] [--unscoped] [--retrievers similarity,compression,hybrid] [--k 5]

Tune on `--split dev`; report `--split test`. Each question is asked of the paper its evidence
names (unanswerable ones: the papers the whole set names), through the retrievers' paper filter
(`RetrieverSettings.papers`); `--unscoped` asks every question of the whole library.

`evaluate()` is a plain function (the UI can call it); `write_outputs()` (in `app.report`) writes
`metrics.json`, `results.csv`, `report.md` and the charts.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tqdm import tqdm

from app.answer import extractive_baseline
from app.errors import UserError
from app.key_terms import key_term_recall, key_terms_in_passages
from app.metrics import answer_f1, grounded, hit_and_rank, rouge_l, strip_citations
from app.question_set import DEFAULT_QUESTIONS, SPLITS, Question, load_questions, select_split
from app.report import summarize_baselines, summarize_rows, summarize_types, write_outputs
from app.scoping import ScopedRetrievers, question_scopes, supports_paper_scope
from app.settings import answer_settings, parse_overrides

logger = logging.getLogger(__name__)

DEFAULT_RETRIEVERS = ("similarity", "compression", "hybrid")
BASELINES = ("first", "embedding")


def answer_scores(q: Question, text: str, source_texts: list[str], refused: bool) -> dict:
    """answer_f1 / rouge_l against the reference and key_terms recall (answerable only),
    grounded (answered only)."""
    clean = strip_citations(text)
    return {
        "answer_f1": answer_f1(clean, q.reference_answer) if q.answerable else None,
        "rouge_l": rouge_l(clean, q.reference_answer) if q.answerable else None,
        "key_terms": key_term_recall(clean, q.key_terms) if q.answerable else None,
        "grounded": None if refused else grounded(text, source_texts),
    }


def answer_words(text: str) -> int:
    """Words of an answer as read: whitespace-separated pieces holding a letter or digit,
    without its "[Paper, p. N]" citation markers (a lone "-" bullet or "." is no word)."""
    return sum(any(c.isalnum() for c in w) for w in strip_citations(text).split())


def question_row(q: Question, retriever: str, answer: Any) -> dict:
    """One results row: the answer and its retrieval and answer metrics; `passage_key_terms`
    is the share of key terms the retrieved passages state (what the answer could state)."""
    texts = [s.text for s in answer.sources]
    hit, rank = hit_and_rank(answer.sources, q.evidence) if q.evidence else (None, None)
    return {
        "id": q.id,
        "retriever": retriever,
        "type": q.type,
        "split": q.split,
        "answerable": q.answerable,
        "answer": answer.text,
        "refused": bool(answer.refused),
        "words": answer_words(answer.text),
        "hit": hit,
        "rank": rank,
        # grounded in what the answer read: the retrieved passages and the stored units it
        # quoted beyond them (the chunks beside them, table rows, announced list items)
        **answer_scores(q, answer.text, texts + [s.text for s in answer.read], answer.refused),
        "passage_key_terms": key_terms_in_passages(texts, q.key_terms) if q.answerable else None,
        "short_answer": answer.short_answer or "",
        "short_hit": short_hit(q, answer.short_answer),
        "latency_ms": float(answer.latency_ms.get("total", 0.0)),
        "retrieve_ms": answer.latency_ms.get("retrieve"),
        "generate_ms": answer.latency_ms.get("generate"),
        "context_tokens": sum(len(t.split()) for t in texts),
    }


def short_hit(q: Question, short: str | None) -> bool | None:
    """Whether the short answer states one of the key terms of an answerable factoid or numeric
    question (no short answer: False); None for other questions and those without key terms."""
    if not q.answerable or q.type not in ("factoid", "numeric"):
        return None
    recall = key_term_recall(short or "", q.key_terms)
    return None if recall is None else recall > 0


def baseline_rows(q: Question, retriever: str, answer: Any, embeddings: Any) -> list[dict]:
    texts = [s.text for s in answer.sources]
    rows = []
    for method in BASELINES:
        text = extractive_baseline(q.question, answer.sources, method, embeddings)
        row = {"id": q.id, "system": f"{retriever}/{method}", "answerable": q.answerable}
        rows.append({**row, **answer_scores(q, text, texts, refused=False)})
    return rows


def run_config(resources: Any, settings: Any, retrievers: Sequence[str], k: int, n: int) -> dict:
    """Settings, k, retrievers, number of questions, model folder, time and machine of a run."""
    return {
        "settings": dataclasses.asdict(settings),
        "k": k,
        "retrievers": list(retrievers),
        "n_questions": n,
        "model_dir": str(getattr(resources, "model_dir", "") or ""),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "node": platform.node(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
    }


def evaluate(
    questions: Sequence[Question],
    resources: Any,
    retrievers: Sequence[str] = DEFAULT_RETRIEVERS,
    k: int | None = None,
    progress: bool = True,
    answer_fn: Callable[..., Any] | None = None,
    scopes: Mapping[str, tuple[str, ...]] | None = None,
) -> dict:
    """Answer every question with every retriever; metrics per retriever, type, baseline, row.

    `scopes` maps a question id to the papers its retrieval is restricted to (see
    `question_set.scope_papers`); None asks every question of the whole library.
    """
    if answer_fn is None:
        from app.answer import answer_question as answer_fn
    if scopes is not None and not supports_paper_scope(resources):
        msg = "the retrievers have no paper filter (RetrieverSettings.papers); run --unscoped"
        raise UserError(msg)
    k = k or resources.settings.k
    model_loaded = getattr(resources.generator, "run", None) is not None
    settings = answer_settings({"k": k}, resources.settings, model_loaded=model_loaded)
    embeddings = getattr(resources.generator, "embeddings", None) or resources.store.embeddings
    rows, base_rows = [], []
    bar = tqdm(total=len(questions) * len(retrievers), disable=not progress, desc="evaluate")
    for name in retrievers:
        scoped = ScopedRetrievers(resources, name, k)
        bar.set_postfix_str(name)
        for i, q in enumerate(questions):
            retriever = scoped.get(scopes.get(q.id, ()) if scopes else ())
            if i == 0:  # untimed warm-up: first-call costs (index, caches) stay out of p50/p95
                answer_fn(q.question, retriever, resources.generator, settings)
            answer = answer_fn(q.question, retriever, resources.generator, settings)
            rows.append(question_row(q, name, answer))
            base_rows.extend(baseline_rows(q, name, answer, embeddings))
            bar.update(1)
    bar.close()
    config = run_config(resources, settings, retrievers, k, len(questions))
    config["scope"] = "evidence paper" if scopes is not None else "unscoped"
    return {
        "config": config,
        "retrievers": {
            name: summarize_rows([r for r in rows if r["retriever"] == name]) for name in retrievers
        },
        "by_type": summarize_types(rows),
        "baselines": summarize_baselines(base_rows),
        "questions": rows,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--questions", default=str(DEFAULT_QUESTIONS), help="JSONL file, one question per line"
    )
    parser.add_argument(
        "--retrievers", default=",".join(DEFAULT_RETRIEVERS), help="comma-separated"
    )
    parser.add_argument(
        "--k", type=int, default=None, help="documents retrieved (default: settings)"
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--split", default="all", help="dev (tune on it), test (report it) or all (default)"
    )
    parser.add_argument(
        "--unscoped",
        action="store_true",
        help="ask every question of the whole library, not of its evidence paper",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument(
        "--model-dir", default=None, help="trained xLSTM run (default: data/models/default)"
    )
    parser.add_argument("--embedding-model", default=None, help="embedding model name or path")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an answer setting, e.g. --set mode=extractive --set max_sentences=2",
    )
    return parser


def parse_retrievers(text: str) -> list[str]:
    from retrievers import RETRIEVER_NAMES

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in RETRIEVER_NAMES]
    if unknown or not names:
        bad = unknown[0] if unknown else "(none)"
        msg = f"unknown retriever {bad!r}; choose from {', '.join(RETRIEVER_NAMES)}"
        raise UserError(msg)
    return names


def run(args: argparse.Namespace) -> dict:
    for name in ("k", "limit"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be at least 1, got {value}")
    retrievers = parse_retrievers(args.retrievers)
    if args.split not in (*SPLITS, "all"):
        raise UserError(f"--split {args.split!r}: choose dev, test or all")
    everything = load_questions(args.questions)
    questions = select_split(everything, args.split)[: args.limit]
    from app.resources import load_resources

    settings = answer_settings(parse_overrides(args.set))
    resources = load_resources(
        model_dir=args.model_dir,
        embedding_model=args.embedding_model,
        settings=settings,
        require_model=settings.mode != "extractive",
    )
    try:
        resources.require_papers()
        scopes, scope_note = question_scopes(everything, resources, args.unscoped)
        result = evaluate(
            questions, resources, retrievers, args.k, not args.no_progress, scopes=scopes
        )
    finally:
        resources.close()
    result["config"].update(questions_file=str(args.questions), split=args.split, scope=scope_note)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    paths = write_outputs(result, args.out)
    print(paths["report"].read_text(encoding="utf-8").split("\n## Charts")[0])
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
