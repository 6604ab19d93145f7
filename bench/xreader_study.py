"""The xLSTM reader alone: `python -m bench.xreader_study --questions DEV.jsonl`.

For every answerable question, retrieves as the app does, cuts the evidence into the answer path's
units (`app.evidence.candidates_from`) and asks, per ranker, whether its first unit is a
*key-fact unit* (one that states at least one of the question's key terms):
- `chance`: the share of key-fact units among the candidates (a random first pick);
- `dense+lexical`: the answer path's base score (MiniLM cosine + lexical_weight x word overlap);
- `upr-pmi`: the xLSTM's UPR re-ranking score alone;
- `reader`: the xLSTM reader head's answer score alone (a model trained with `--qa reader`);
- `token-reader`: the xLSTM token reader's score alone (`xlstm_model.token_reader`, `make
  train`), and `dense+lexical+token-reader`: the base score plus it, as the answer path adds it;
  for an ensemble reader also `token-reader[m]`: each member alone.
For factoid and numeric questions it also checks the short answer: the reader head's span
(`span_hit`) and the token reader's (`token_span_hit`) in their own first unit, and
`app.short_answer` on the dense + lexical first unit (`short_hit`; `short_hit_token`: on the
first unit of dense + lexical + token reader), each counted as holding the expected value when
it states a key term. A ranker the model lacks is left out. Tune nothing on `test`: pass the
dev split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from app.errors import UserError
from app.question_set import load_questions

RANKERS = (
    "chance", "dense+lexical", "upr-pmi", "reader", "token-reader", "dense+lexical+token-reader"
)  # fmt: skip


def study_question(question, retriever, resources, settings) -> dict | None:
    """One question's row: per ranker, whether its first unit is a key-fact unit."""
    from app.answer import content_query
    from app.evidence import candidates_from, dense_scores, lexical_scores
    from app.key_terms import key_term_recall

    query = content_query(question.question)
    units = candidates_from(retriever.invoke(query))
    if len(units) < 2 or not question.key_terms:
        return None
    texts = [u.text for u in units]
    facts = np.array([bool(key_term_recall(t, question.key_terms)) for t in texts])
    dense, _ = dense_scores(query, texts, resources.generator.embeddings)
    base = dense + settings.lexical_weight * lexical_scores(query, texts)
    row = {"id": question.id, "type": question.type, "units": len(units),
           "any_fact": bool(facts.any()), "chance": float(facts.mean())}  # fmt: skip
    scorers = model_scores(query, texts, base, resources.generator, settings)
    for name, scores in {"dense+lexical": base, **scorers}.items():
        if not name.startswith("_"):  # "_readings": the readers' spans, not rankers
            row[name] = float(facts[int(np.argmax(scores))])
    if question.type in ("factoid", "numeric"):
        row.update(_spans(query, units, base, scorers, question.key_terms))
    return row


def model_scores(query: str, texts: list[str], base, generator, settings) -> dict:
    """Each xLSTM ranker the loaded model has: name -> scores (the reader head's readings
    ride along under "_readings" for the span check)."""
    from app.evidence import on_base_scale
    from xlstm_model.reading import has_reader, read_units
    from xlstm_model.scoring import upr_pmi_scores

    run = generator.require_model()
    out: dict = {"upr-pmi": np.array(upr_pmi_scores(run, query, texts))}
    if has_reader(run):
        out["_readings"] = read_units(run, query, texts)
        out["reader"] = np.array([r.score for r in out["_readings"]])
    if generator.token_reader is not None:
        out["_token_readings"] = generator.token_read(query, texts)
        tokens = np.array([r.score for r in out["_token_readings"]])
        out["token-reader"] = tokens
        out["dense+lexical+token-reader"] = base + on_base_scale(
            tokens, base, settings.token_weight
        )
        for m, member in enumerate(member_runs(generator.token_reader)):
            out[f"token-reader[{m}]"] = np.array(member.scores(query, texts))
    return out


def member_runs(token_reader) -> list:
    """Each member of an ensemble token reader as a reader of its own (sharing the encoder and
    its cache), so each is measured alone beside their average; [] for a single reader."""
    import dataclasses

    from xlstm_model.token_reader import TokenReaderEnsemble

    model = getattr(token_reader, "model", None)
    if not isinstance(model, TokenReaderEnsemble):
        return []
    return [dataclasses.replace(token_reader, model=m) for m in model.members]


def _spans(query: str, units, base, scorers: dict, key_terms) -> dict:
    from app.key_terms import key_term_recall
    from app.short_answer import short_answer

    row = {}
    if "_readings" in scorers:
        reading = scorers["_readings"][int(np.argmax(scorers["reader"]))]
        row["span"] = reading.span
        row["span_hit"] = bool(key_term_recall(reading.span, key_terms))
    if "_token_readings" in scorers:  # the token reader's span in its own first unit
        reading = scorers["_token_readings"][int(np.argmax(scorers["token-reader"]))]
        row["token_span"] = reading.span
        row["token_span_hit"] = bool(key_term_recall(reading.span, key_terms))
    short = short_answer(query, [units[int(np.argmax(base))]])
    row["short_answer"] = short.text if short else ""
    row["short_hit"] = bool(short and key_term_recall(short.text, key_terms))
    if "dense+lexical+token-reader" in scorers:  # the short answer the answer path would cut
        best = units[int(np.argmax(scorers["dense+lexical+token-reader"]))]
        short = short_answer(query, [best])
        row["short_answer_token"] = short.text if short else ""
        row["short_hit_token"] = bool(short and key_term_recall(short.text, key_terms))
    return row


def summarise(rows: list[dict]) -> dict:
    """Mean of every ranker's first-unit hit, and of the span hits."""
    out = {"questions": len(rows), "with_a_fact_unit": sum(r["any_fact"] for r in rows)}
    members = sorted({k for r in rows for k in r if k.startswith("token-reader[")})
    for name in [*RANKERS, *members]:
        hits = [r[name] for r in rows if name in r]
        out[name] = round(float(np.mean(hits)), 3) if hits else None
    spans = [r for r in rows if "short_hit" in r]
    out["span_questions"] = len(spans)
    for key in ("span_hit", "token_span_hit", "short_hit", "short_hit_token"):
        hits = [r[key] for r in spans if key in r]
        out[key] = round(float(np.mean(hits)), 3) if hits else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.xreader_study", description=__doc__)
    parser.add_argument("--questions", required=True, help="JSONL (pass the dev split only)")
    parser.add_argument("--retrievers", default="hybrid,similarity")
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    try:
        from app.resources import load_resources

        questions = [q for q in load_questions(args.questions) if q.answerable]
        resources = load_resources(model_dir=args.model_dir)
        results = {}
        try:
            for name in [r.strip() for r in args.retrievers.split(",") if r.strip()]:
                retriever = resources.retriever(name)
                rows = [study_question(q, retriever, resources, resources.settings)
                        for q in questions]  # fmt: skip
                rows = [r for r in rows if r is not None]
                results[name] = {"summary": summarise(rows), "rows": rows}
                print(name, json.dumps(results[name]["summary"]), flush=True)
        finally:
            resources.close()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
