"""Where the short answer comes from: `app.short_answer`'s rules, the xLSTM's span, or both.

The xLSTM token reader (`xlstm_model.token_reader`) points at a span in every unit it reads
(`Candidate.xlstm_span`); `xlstm_short` takes that span in the best unit as the short answer, so
the model chooses and cuts while every word stays quoted. `AnswerSettings.short_source` picks.
A rule-cut answer is confident enough to quote only its own units and `short_support` more; the
xLSTM's span opens the answer and leaves the quotes as they ranked (dev: cutting them to its
unit lost key terms, 0.701 -> 0.685 similarity).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.answer_settings import AnswerSettings
from app.reader import NON_ANSWER_ROLES, Unit, answer_type, numbers_in
from app.short_answer import ShortAnswer, short_answer


def xlstm_short(question: str, units: Sequence[Unit]) -> ShortAnswer | None:
    """The xLSTM's span in the best of `units` (best first) when the question wants a number
    (the span must hold one) or a name; None for reasons and lists, for a unit it did not read,
    and for captions, equations, references and headings."""
    wanted = answer_type(question)
    if wanted not in ("number", "name") or not units:
        return None
    unit = units[0]
    span = str(getattr(unit, "xlstm_span", "") or "")
    if not span or unit.kind in NON_ANSWER_ROLES:
        return None
    if wanted == "number" and not numbers_in(span):
        return None
    return ShortAnswer(span, (unit,), by="xlstm")


def cut_short_answer(
    question: str, ranked: Sequence[Unit], pool: Sequence[Unit], settings: AnswerSettings
) -> ShortAnswer | None:
    """The short answer `settings.short_source` asks for (None when `short_answer` is off)."""
    if not settings.short_answer:
        return None
    if settings.short_source == "xlstm":
        return xlstm_short(question, ranked)
    short = short_answer(question, ranked, pool)
    if short is not None and short.by == "phrase" and not settings.short_phrase:
        short = None
    if settings.short_source == "rules+xlstm" and (short is None or short.by == "phrase"):
        return xlstm_short(question, ranked) or short  # the model before the least sure rule
    return short
