"""The direct short answer that opens a factoid or numeric answer: "14.26 — GPT-3, Table 1,
SlimPajama (15B) ppl ↓".

The span is cut from one quoted unit (a table cell with its row and column, a number with its
unit, a name next to the question's head noun), so every word of it stays traceable to a quote;
nothing is generated. When a table question names a row that the best table row is not, the
row is marked "closest row" rather than passed off as the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.phrase_span import phrase_span
from app.reader import LEAD, NON_ANSWER_ROLES, Unit, answer_type, numbers_in
from app.spans import compound_number_span, name_span, number_span
from app.table_cells import (
    companion_rows,
    gap_free_row,
    header_words,
    other_table,
    parse_row,
    row_gaps,
    table_answer,
    wh_measure,
)

_WH = re.compile(rf"{LEAD}(?:\w+\s+)?(?:what|which|how|who|whose)\b", re.I)


@dataclass(frozen=True)
class ShortAnswer:
    """The short answer and the unit it was cut from."""

    text: str
    units: tuple[Unit, ...]  # the units it was cut from, to be quoted first
    missing: tuple[str, ...] = ()  # names the question gives that the quoted rows lack
    # who cut it: "rules" (a cell, a number, a name: this module), "phrase" (`phrase_answer`)
    # or "xlstm" (`app.short_source`)
    by: str = "rules"


def short_answer(
    question: str, units: Sequence[Unit], pool: Sequence[Unit] = (), max_units: int = 2
) -> ShortAnswer | None:
    """The short answer from the best of `units` (best first) that yields one, else the phrase
    the best unit adds to a "what"/"which"/"how" question (`phrase_answer`); None for questions
    that want a reason or a list, and when no unit holds a span. A table row brings the rows of
    its table from `pool` that the question also names."""
    wanted = answer_type(question)
    if wanted == "other" and _WH.match(question):
        return phrase_answer(question, units)  # "How is the stabilizer state computed?"
    if wanted not in ("number", "name"):
        return None

    # the unit lacking least of what the question names goes first ("the 1.3B RWKV-4": its
    # Table 7 row, not a sentence about RWKV-6 that scored higher): models, sizes, the table
    # and the measure asked for
    def gaps(u: Unit) -> int:
        return len(row_gaps(question, u.text)) + off_table(question, u) + lacks_measure(question, u)

    for unit in sorted(units[:max_units], key=gaps):
        extra: list[Unit] = []
        if unit.kind == "table_row":
            unit = gap_free_row(question, unit, pool) or unit
            extra = companion_rows(question, unit, pool)
            text = table_answer(question, unit.text, [u.text for u in extra])
            if wanted == "name" and not set(numbers_in(question)) & set(numbers_in(unit.text)):
                text = (
                    None  # "which function ...": a cell answers only "which model reaches 2417.86"
                )
        elif unit.kind in NON_ANSWER_ROLES:
            text = None
        elif wanted == "number":
            text = compound_number_span(question, unit.text) or number_span(question, unit.text)
        else:
            text = name_span(question, unit.text)
        if text:
            rows = [u.text for u in (unit, *extra)] if unit.kind == "table_row" else []
            missing = tuple(row_gaps(question, " ".join(rows))) if rows else ()
            return ShortAnswer(text, (unit, *extra), missing)
    return phrase_answer(question, units) if wanted == "name" else None


def phrase_answer(question: str, units: Sequence[Unit]) -> ShortAnswer | None:
    """The phrase the best unit adds to the question (`app.phrase_span`), when that unit is
    prose: less sure than a cell or a number, so the quotes after it keep their ranking."""
    unit = units[0] if units else None
    if unit is None or unit.kind in (*NON_ANSWER_ROLES, "table_row"):
        return None
    text = phrase_span(question, unit.text)
    return ShortAnswer(text, (unit,), by="phrase") if text else None


def lacks_measure(question: str, unit: Unit) -> bool:
    """Whether `unit` is a table row with no column of the measure the question asks for
    ("what HellaSwag accuracy ...": a row of a perplexity table cannot answer it)."""
    measure = wh_measure(question)
    parsed = parse_row(unit.text) if measure and unit.kind == "table_row" else None
    return parsed is not None and not any(measure & header_words(c) for c, _ in parsed[2][1:])


def off_table(question: str, unit: Unit) -> bool:
    """Whether `unit` is a row of another table than the one the question names."""
    parsed = parse_row(unit.text) if unit.kind == "table_row" else None
    return parsed is not None and other_table(question, parsed[0]) is not None
