"""Where the short answer comes from: the rules, the xLSTM token reader's span, or both."""

from __future__ import annotations

import dataclasses

from app.answer_settings import AnswerSettings
from app.evidence import Candidate
from app.short_source import cut_short_answer, xlstm_short


def _unit(text: str, span: str = "", kind: str = "text") -> Candidate:
    return Candidate(text, 0, {}, kind=kind, xlstm_span=span)


def test_the_xlstm_span_answers_numbers_and_names_from_the_best_unit_only() -> None:
    best = _unit("Training used 128 nodes of eight NVIDIA A100 GPUs.", span="128 nodes")
    short = xlstm_short("How many nodes did the cluster have?", [best, _unit("x", "9")])
    assert short.text == "128 nodes" and short.units == (best,)  # its unit is quoted first
    assert xlstm_short("How many nodes?", [_unit("Nodes were used.", span="Nodes")]) is None
    name = _unit("We use the GPT-2 tokenizer.", span="GPT-2 tokenizer")
    assert xlstm_short("Which tokenizer is used?", [name]).text == "GPT-2 tokenizer"
    assert xlstm_short("Why is the sLSTM slower?", [name]) is None  # a reason: no short answer
    caption = _unit("Table 1: 356M models.", span="356M", kind="caption")
    assert xlstm_short("How many parameters?", [caption]) is None
    assert xlstm_short("How many nodes?", [_unit("128 nodes.")]) is None  # not read: no span
    assert xlstm_short("How many nodes?", []) is None


def test_the_setting_picks_the_rules_the_xlstm_or_the_xlstm_where_the_rules_find_none() -> None:
    question = "How many nodes did the cluster have?"
    unit = _unit("The cluster had 128 nodes of eight A100 GPUs.", span="eight A100")
    ruled = dataclasses.replace(AnswerSettings(), short_source="rules")
    assert "128" in cut_short_answer(question, [unit], [unit], ruled).text
    xlstm = dataclasses.replace(ruled, short_source="xlstm")
    assert cut_short_answer(question, [unit], [unit], xlstm).text == "eight A100"
    both = dataclasses.replace(ruled, short_source="rules+xlstm")
    assert "128" in cut_short_answer(question, [unit], [unit], both).text  # the rules first
    bare = _unit("The cluster was large.", span="4 racks")  # no number for the rules to cut
    assert cut_short_answer(question, [bare], [bare], ruled) is None
    assert cut_short_answer(question, [bare], [bare], both).text == "4 racks"
    off = dataclasses.replace(both, short_answer=False)
    assert cut_short_answer(question, [unit], [unit], off) is None


def test_rules_and_xlstm_puts_the_xlstm_before_the_least_sure_rule_the_phrase() -> None:
    question = "To which earlier approach is the covariance update rule equivalent?"
    text = (
        "The covariance update rule is equivalent to Fast Weight Programmers (Schmidhuber, 1992)."
    )
    read = _unit(text, span="Fast Weight Programmers (Schmidhuber")
    ruled = dataclasses.replace(AnswerSettings(), short_source="rules")
    phrase = cut_short_answer(question, [read], [read], ruled)
    assert (phrase.text, phrase.by) == ("Fast Weight Programmers", "phrase")
    both = dataclasses.replace(ruled, short_source="rules+xlstm")
    assert cut_short_answer(question, [read], [read], both).by == "xlstm"
    unread = _unit(text)  # the xLSTM did not read it: the phrase stays
    assert cut_short_answer(question, [unread], [unread], both).by == "phrase"
    off = dataclasses.replace(ruled, short_phrase=False)
    assert cut_short_answer(question, [unread], [unread], off) is None
