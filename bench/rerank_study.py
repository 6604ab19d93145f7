"""Does the xLSTM's re-ranking beat chance? `python -m bench.rerank_study [--retriever hybrid]`.

Answers every answerable question of the question set through the product's own answer path
(`answer_question`, mode "extractive-xlstm") while swapping the re-ranking signal the xLSTM
provides, at each weight:
- `upr`: mean log p(question | sentence) per question token — what the app uses (UPR);
- `upr-pmi`: per question token, log p(q_t | sentence, q_<t) - log p(q_t | no sentence, q_<t),
  summed where positive (the tokens the sentence makes likelier);
- `reverse-pmi`: the same contrast for the sentence's tokens given the question;
- `reader`: the reader head's answer score (models trained with `--qa reader`);
- `token-reader`: the xLSTM token reader's score (`xlstm_model.token_reader`, `make train`);
- `random-N`: Gaussian noise (seed N), the noise floor any signal must beat;
and the same without re-ranking. Prints answer F1 and key-term recall per signal and weight.
Retrievals are computed once per question and reused, so every row sees the same evidence.
Every signal enters through one seam, so random ones are compared at the same weight and on the
same units: `--seam upr` (the best 12 units, `upr_weight`) or `--seam token` (the token
reader's: the best 24, `token_weight`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.answer import Answer, answer_question
from app.errors import UserError
from app.evaluate import answer_scores
from app.question_set import DEFAULT_QUESTIONS, Question, load_questions

Signal = Callable[[str, list[str]], list[float]]
SIGNALS = "upr, upr-pmi, reverse-pmi, reader, token-reader"  # model_signals (if trained)


def model_signals(run, token_reader=None) -> dict[str, Signal]:
    """The xLSTM-derived signals, each (question, passages) -> one score per passage."""
    from xlstm_model.scoring import (
        no_passage_ids,
        token_logprobs,
        upr_context_ids,
        upr_pmi_scores,
        upr_scores,
    )

    tok = run.tokenizer
    empty = no_passage_ids(tok)

    def reverse_pmi(question: str, passages: list[str]) -> list[float]:
        asked = upr_context_ids(run, question, max_tokens=48)  # the question as the context
        targets = [tok.encode(f" {p}")[:64] or [tok.eot_id] for p in passages]
        given = token_logprobs(run, [(asked, t) for t in targets])
        alone = token_logprobs(run, [(empty, t) for t in targets])
        return [float((a - b).clamp(min=0).sum()) for a, b in zip(given, alone, strict=True)]

    signals = {
        "upr": lambda q, passages: upr_scores(run, q, passages),
        "upr-pmi": lambda q, passages: upr_pmi_scores(run, q, passages),
        "reverse-pmi": reverse_pmi,
    }
    from xlstm_model.reading import has_reader, read_units

    if has_reader(run):  # a model trained with --qa reader: its reader head's answer score
        signals["reader"] = lambda q, passages: [r.score for r in read_units(run, q, passages)]
    if token_reader is not None:
        signals["token-reader"] = token_reader.scores
    return signals


def random_signal(seed: int) -> Signal:
    def scores(question: str, passages: list[str]) -> list[float]:
        rng = np.random.default_rng([seed, len(question), len(passages)])
        return rng.standard_normal(len(passages)).tolist()

    return scores


class _FixedRetriever:
    """Replays one retrieval per query, so every signal re-ranks the same evidence."""

    def __init__(self, inner) -> None:
        self.inner, self.cache = inner, {}

    def invoke(self, query: str):
        if query not in self.cache:
            self.cache[query] = self.inner.invoke(query)
        return self.cache[query]


def score_answers(questions: Sequence[Question], answer_fn: Callable[[str], Any]) -> dict:
    """Mean answer F1 and key-term recall of `answer_fn`'s answers, scored as the evaluation
    scores them (`app.evaluate.answer_scores`)."""
    scores = []
    for q in questions:
        answer = answer_fn(q.question)
        texts = [source.text for source in answer.sources]
        scores.append(answer_scores(q, answer.text, texts, bool(answer.refused)))
    terms = [s["key_terms"] for s in scores if s["key_terms"] is not None]
    return {
        "answer_f1": float(np.mean([s["answer_f1"] for s in scores])),
        "key_terms": float(np.mean(terms)) if terms else None,
    }


def study(
    resources,
    questions,
    retriever_name: str,
    weights,
    seeds: int,
    only: Sequence[str] = (),
    seam: str = "upr",
) -> list[dict]:
    """One row per (signal, weight): its answer F1 and key-term recall.

    `only` limits the model signals to those names (all of them when empty)."""
    generator = dataclasses.replace(resources.generator)
    generator.require_model()
    retriever = _FixedRetriever(resources.retriever(retriever_name))
    found = model_signals(generator.run, generator.token_reader)
    model = {k: v for k, v in found.items() if not only or k in only}
    signals = {**model, **{f"random-{s}": random_signal(s) for s in range(seeds)}}
    runs = [("none", 0.0)] + [(name, w) for name in signals for w in weights]
    rows = []
    for name, weight in runs:
        # every signal goes through one seam (`upr_scores` or `token_read`, replaced below);
        # "auto" would pick the model's own reader and ignore the replaced signal
        settings = _seam_settings(resources.settings, seam, weight)
        if name != "none":
            fn = signals[name]  # the answer path also passes `signal=`, ignored here
            generator.upr_scores = lambda q, p, fn=fn, **_: fn(q, p)  # type: ignore[method-assign]
            generator.token_read = lambda q, p, fn=fn: _readings(fn(q, p))  # type: ignore[method-assign]

        def answer(question: str, settings=settings) -> Answer:
            return answer_question(question, retriever, generator, settings)

        rows.append({"signal": name, "weight": weight, **score_answers(questions, answer)})
        print(_row(rows[-1]), flush=True)
    return rows


def _readings(scores: list[float]) -> list:
    """Scores as the token reader's readings (no span), for the token seam."""
    from xlstm_model.reading import Reading

    return [Reading(float(s), "", 0, 0) for s in scores]


def _seam_settings(settings, seam: str, weight: float):
    if seam == "token":
        return dataclasses.replace(
            settings, mode="extractive-xlstm", token_weight=weight, upr_signal="token-reader"
        )
    return dataclasses.replace(
        settings, mode="extractive-xlstm", upr_weight=weight, upr_signal="upr-pmi"
    )


def _row(r: dict) -> str:
    terms = "–" if r["key_terms"] is None else f"{r['key_terms']:.3f}"
    return f"| {r['signal']} | {r['weight']:g} | {r['answer_f1']:.3f} | {terms} |"


def _weights(text: str) -> list[float]:
    try:
        return [float(w) for w in text.split(",") if w.strip()]
    except ValueError as e:
        raise UserError(f"--weights {text!r}: use comma-separated numbers, e.g. 0.1,0.3") from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rerank_study", description=__doc__)
    parser.add_argument("--questions", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--retriever", default="hybrid")
    parser.add_argument("--weights", default="0.1,0.3", help="comma-separated re-ranking weights")
    parser.add_argument("--random-seeds", type=int, default=6)
    parser.add_argument(
        "--signals", default="", help="comma-separated model signals (default: all): " + SIGNALS
    )
    parser.add_argument(
        "--seam", choices=("upr", "token"), default="upr", help="where the signals enter"
    )
    parser.add_argument("--limit", type=int, default=None, help="first N answerable questions")
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    try:
        from app.resources import load_resources

        weights = _weights(args.weights)
        only = [s.strip() for s in args.signals.split(",") if s.strip()]
        if unknown := set(only) - set(SIGNALS.split(", ")):
            raise UserError(f"unknown --signals {', '.join(sorted(unknown))}; use {SIGNALS}")
        questions = [q for q in load_questions(args.questions) if q.answerable][: args.limit]
        resources = load_resources(model_dir=args.model_dir)
        try:
            print("| signal | weight | answer F1 | key terms |\n|---|---|---|---|")
            rows = study(
                resources, questions, args.retriever, weights, args.random_seeds, only, args.seam
            )
        finally:
            resources.close()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
