"""bench.xreader_study: the summary of first-unit hits and span hits."""

from __future__ import annotations

from bench.xreader_study import summarise


def test_summarise_means_per_ranker_and_span_questions_only() -> None:
    rows = [
        {"any_fact": True, "chance": 0.25, "dense+lexical": 1.0, "upr-pmi": 0.0, "reader": 1.0,
         "span_hit": True, "short_hit": False},
        {"any_fact": False, "chance": 0.0, "dense+lexical": 0.0, "upr-pmi": 0.0, "reader": 0.0},
    ]  # fmt: skip
    out = summarise(rows)
    assert out["questions"] == 2 and out["with_a_fact_unit"] == 1
    assert out["chance"] == 0.125 and out["dense+lexical"] == 0.5 and out["reader"] == 0.5
    assert out["span_questions"] == 1 and out["span_hit"] == 1.0 and out["short_hit"] == 0.0
    assert summarise([])["reader"] is None
