"""Summaries and files of an evaluation run: metrics.json, results.csv, report.md and charts."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.metrics import mrr, percentile
from app.question_set import QUESTION_TYPES

logger = logging.getLogger(__name__)

ANSWER_TABLE = (  # report.md: what the answers state, next to what retrieval found
    "key_terms",
    "key_terms_passages",
    "key_terms_numeric",
    "short_answer_hit",
    "words_per_answer",
    "answer_f1",
    "rouge_l",
    "grounded",
    "refusal_accuracy",
    "false_refusal_rate",
)
RETRIEVER_METRICS = (
    "hit_at_k",
    "mrr",
    "context_tokens",
    *ANSWER_TABLE,
    "latency_ms_p50",
    "latency_ms_p95",
    "retrieve_ms_p50",
    "retrieve_ms_p95",
    "generate_ms_p50",
    "generate_ms_p95",
)
STAGES = ("latency_ms", "retrieve_ms", "generate_ms")  # timed per answer: total and two stages
LATENCY_METRICS = tuple(m for m in RETRIEVER_METRICS if m.endswith(("_p50", "_p95")))
ANSWER_METRICS = ("answer_f1", "rouge_l", "key_terms", "grounded")
RETRIEVAL_TABLE = tuple(m for m in RETRIEVER_METRICS if m not in ANSWER_TABLE)
RETRIEVAL_METRICS = (
    "hit_at_k",
    "mrr",
    "key_terms_passages",
    "refusal_accuracy",
    "false_refusal_rate",
)
CSV_FIELDS = (
    "id",
    "retriever",
    "type",
    "split",
    "answerable",
    "refused",
    "words",
    "hit",
    "rank",
    "answer_f1",
    "rouge_l",
    "key_terms",
    "passage_key_terms",
    "short_hit",
    "grounded",
    "latency_ms",
    "retrieve_ms",
    "generate_ms",
    "context_tokens",
    "short_answer",
    "answer",
)


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    data = [float(v) for v in values if v is not None]
    return round(sum(data) / len(data), 4) if data else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarize_rows(rows: Sequence[dict]) -> dict:
    """Metrics of one retriever from its question rows (see `RETRIEVER_METRICS`).

    hit_at_k and mrr count answerable questions with evidence; answer_f1 and rouge_l count
    answerable questions (a false refusal scores its refusal text); key_terms (share of key
    terms the answer states), key_terms_passages (share the retrieved passages state) and
    key_terms_numeric (key_terms of "numeric" questions) count answerable questions with key
    terms; short_answer_hit (the short answer states a key term; none is a miss) counts
    answerable factoid and numeric questions with key terms; words_per_answer and grounded
    count answered (not refused) questions;
    refusal_accuracy = share of unanswerable questions refused; false_refusal_rate = share of
    answerable questions refused.
    """
    with_evidence = [r for r in rows if r["hit"] is not None]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["refused"]]
    return {
        "n_questions": len(rows),
        "hit_at_k": mean(r["hit"] for r in with_evidence),
        "mrr": round(mrr(r["rank"] for r in with_evidence), 4) if with_evidence else None,
        "context_tokens": mean(r["context_tokens"] for r in rows),
        "answer_f1": mean(r["answer_f1"] for r in answerable),
        "rouge_l": mean(r["rouge_l"] for r in answerable),
        "key_terms": mean(r.get("key_terms") for r in answerable),
        "key_terms_passages": mean(r.get("passage_key_terms") for r in answerable),
        "key_terms_numeric": mean(r.get("key_terms") for r in answerable if r["type"] == "numeric"),
        "short_answer_hit": mean(r.get("short_hit") for r in answerable),
        "words_per_answer": mean(r.get("words") for r in answered),
        "grounded": mean(r["grounded"] for r in rows),
        "refusal_accuracy": mean(r["refused"] for r in unanswerable),
        "false_refusal_rate": mean(r["refused"] for r in answerable),
        **latency_percentiles(rows),
    }


def latency_percentiles(rows: Sequence[dict]) -> dict[str, float | None]:
    """p50 and p95 of every timed stage (total, retrieve, generate) present in the rows."""
    out: dict[str, float | None] = {}
    for key in STAGES:
        values = [r[key] for r in rows if r.get(key) is not None]
        if values or key == "latency_ms":
            out[f"{key}_p50"] = _rounded(percentile(values, 50))
            out[f"{key}_p95"] = _rounded(percentile(values, 95))
    return out


def summarize_baselines(rows: Sequence[dict]) -> dict:
    """{"<retriever>/<baseline>": {answer_f1, rouge_l, grounded}} over answerable questions."""
    systems = list(dict.fromkeys(r["system"] for r in rows))
    out = {}
    for system in systems:
        chosen = [r for r in rows if r["system"] == system and r["answerable"]]
        out[system] = {"n_questions": len(chosen)}
        out[system].update({m: mean(r[m] for r in chosen) for m in ANSWER_METRICS})
    return out


def summarize_types(rows: Sequence[dict]) -> dict[str, dict[str, dict[str, Any]]]:
    """{retriever: {type: {n_questions, key_terms, key_terms_passages, answer_f1,
    refusal_accuracy}}}, types in `QUESTION_TYPES` order (others after them); the answer
    metrics count answerable questions, refusal_accuracy unanswerable ones."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for retriever in dict.fromkeys(r["retriever"] for r in rows):
        mine = [r for r in rows if r["retriever"] == retriever]
        present = {r["type"] for r in mine}
        kinds = [t for t in QUESTION_TYPES if t in present] + sorted(present - {*QUESTION_TYPES})
        out[retriever] = {}
        for kind in kinds:
            chosen = [r for r in mine if r["type"] == kind]
            answerable = [r for r in chosen if r["answerable"]]
            out[retriever][kind] = {
                "n_questions": len(chosen),
                "key_terms": mean(r.get("key_terms") for r in answerable),
                "key_terms_passages": mean(r.get("passage_key_terms") for r in answerable),
                "answer_f1": mean(r.get("answer_f1") for r in answerable),
                "refusal_accuracy": mean(r["refused"] for r in chosen if not r["answerable"]),
            }
    return out


def key_terms_by_type_table(types: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Markdown: per retriever and type, "answer / passages" key terms (unanswerable: share
    refused), the question count in the header."""
    kinds = list(dict.fromkeys(k for row in types.values() for k in row))
    counts = {k: next(row[k]["n_questions"] for row in types.values() if k in row) for k in kinds}
    rows = []
    for retriever, row in types.items():
        cells = []
        for kind in kinds:
            m = row.get(kind)
            if m is None:
                cells.append(None)
            elif m["key_terms"] is None and m["refusal_accuracy"] is not None:
                cells.append(f"refused {_cell(m['refusal_accuracy'])}")
            else:
                cells.append(f"{_cell(m['key_terms'])} / {_cell(m['key_terms_passages'])}")
        rows.append([retriever, *cells])
    return markdown_table(["retriever", *(f"{k} ({counts[k]})" for k in kinds)], rows)


def by_type(rows: Sequence[dict]) -> dict[str, dict[str, float | None]]:
    """answer_f1 per retriever and question type (refusal accuracy for "unanswerable")."""
    table: dict[str, dict[str, float | None]] = {}
    for r in rows:
        table.setdefault(r["retriever"], {}).setdefault(r["type"], None)
    for retriever, types in table.items():
        for kind in types:
            chosen = [r for r in rows if r["retriever"] == retriever and r["type"] == kind]
            metric = "answer_f1" if chosen[0]["answerable"] else "refused"
            types[kind] = mean(r[metric] for r in chosen)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_charts(result: dict, out_dir: Path) -> dict[str, Path]:
    """PNG charts (matplotlib Agg): answer metrics, retrieval metrics, latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = {**result["retrievers"], **result["baselines"]}
    charts = {
        "answer_metrics": (systems, ANSWER_METRICS, "Answer metrics (higher is better)"),
        "retrieval_metrics": (result["retrievers"], RETRIEVAL_METRICS, "Retrieval and refusal"),
        "latency": (result["retrievers"], LATENCY_METRICS, "Latency per stage (ms)"),
    }
    paths = {}
    for name, (groups, metrics, title) in charts.items():
        width_in = min(14.0, max(6.0, 0.45 * len(groups) * len(metrics) + 3))
        fig, ax = plt.subplots(figsize=(width_in, 4))
        width = 0.8 / max(1, len(groups))
        for i, (system, values) in enumerate(groups.items()):
            xs = [m + i * width for m in range(len(metrics))]
            ax.bar(xs, [values.get(m) or 0.0 for m in metrics], width, label=system)
        ax.set_xticks([m + 0.4 - width / 2 for m in range(len(metrics))], list(metrics))
        ax.set_title(title)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        paths[name] = out_dir / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
        plt.close(fig)
    return paths


def render_report(result: dict, charts: dict[str, Path]) -> str:
    """report.md: configuration, the metric tables, answer_f1 per question type, the charts."""
    config = result["config"]
    settings = config.get("settings", {})
    retr = result["retrievers"]
    parts = [
        "# Evaluation report",
        "",
        f"Questions: `{config.get('questions_file', '?')}` ({config.get('n_questions', '?')}), "
        f"split = `{config.get('split', 'all')}`, scope = {config.get('scope', '?')}, "
        f"k = {config.get('k')}, mode = `{settings.get('mode', '?')}`, "
        f"model = `{config.get('model_dir') or '-'}`, {config.get('timestamp', '')}.",
        "",
        "## Answers",
        "",
        "key_terms: share of key terms the answer states; key_terms_passages: share the "
        "retrieved passages state (the gap is what the answer dropped; an answer completing an "
        "announced list also reads the chunks after it, so it can state more); "
        "words_per_answer: answered questions, citation markers not counted.",
        "",
        markdown_table(
            ["retriever", *ANSWER_TABLE],
            [[n, *(m.get(x) for x in ANSWER_TABLE)] for n, m in retr.items()],
        ),
        "",
        "## Key terms by question type (answer / retrieved passages)",
        "",
        key_terms_by_type_table(result.get("by_type") or summarize_types(result["questions"])),
        "",
        "## Retrieval and latency",
        "",
        markdown_table(
            ["retriever", *RETRIEVAL_TABLE],
            [[n, *(m.get(x) for x in RETRIEVAL_TABLE)] for n, m in retr.items()],
        ),
        "",
        "## Baselines (answerable questions)",
        "",
        markdown_table(
            ["system", *ANSWER_METRICS],
            [[n, *(m.get(x) for x in ANSWER_METRICS)] for n, m in result["baselines"].items()],
        ),
        "",
        "## answer_f1 by question type (unanswerable: refusal accuracy)",
        "",
    ]
    types = by_type(result["questions"])
    kinds = sorted({k for row in types.values() for k in row})
    parts.append(
        markdown_table(
            ["retriever", *kinds], [[r, *(t.get(k) for k in kinds)] for r, t in types.items()]
        )
    )
    parts += ["", "## Charts", ""]
    parts += [f"![{name}]({path.name})" for name, path in charts.items()]
    return "\n".join(parts) + "\n"


def write_outputs(result: dict, out_dir: str | Path) -> dict[str, Path]:
    """Writes metrics.json, results.csv, report.md and the PNG charts; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "results": out / "results.csv"}
    paths["metrics"].write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with paths["results"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(result["questions"])
    charts = write_charts(result, out)
    paths["report"] = out / "report.md"
    paths["report"].write_text(render_report(result, charts), encoding="utf-8")
    return {**paths, **charts}
