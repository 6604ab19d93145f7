"""Superlative questions over a table: "Which model reaches the highest ListOps accuracy?"

No single unit states which row of a table is best; the table does, read whole. For a question
that asks for the highest, lowest, best or worst value in a column a table of the answering
papers writes ("ListOps acc ↑" for "ListOps accuracy"), `table_extreme` compares that column over
the table's rows and returns the row holding the extreme. "Best" and "worst" follow the column's
arrow (↑: higher is better; ↓: lower) or, without one, its measure (perplexity and loss: lower
is better). A table that groups rows by model size (Table 3's 125M … 1.3B) is compared within
the size the question names, and not at all when it names none: the largest model would win
every comparison. The short answer says what was compared ("LSTM (Block) — 0.495, the highest
ListOps acc ↑ of Table 6's 6 rows"), and the row is quoted first, so the value stays traceable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.documents import Document

from app.evidence import Candidate
from app.reader import content_words, numbers_in
from app.short_answer import ShortAnswer
from app.table_cells import column_terms, column_words, header_words, model_sizes, parse_row

# "maximum" and "minimum" only after "the": "the minimum learning rate" of a schedule is a
# setting, not a comparison of rows
_SUPERLATIVE = re.compile(
    r"\b(highest|largest|greatest|best|lowest|smallest|fewest|worst|(?<=the )(?:maximum|minimum))"
    r"\b(?P<measure>(?:\s+(?!(?:in|on|of|for|at|among|across|and|or|with|by|to)\b)[\w\-()]+){0,3})",
    re.IGNORECASE,
)
_HIGH = {"highest", "largest", "greatest", "maximum"}
_LOW = {"lowest", "smallest", "minimum", "fewest"}
_GENERIC = {"acc", "accuracy", "ppl", "perplexity", "avg", "average", "score", "loss"}
_LOWER_IS_BETTER = {"ppl", "perplexity", "loss", "error", "latency"}
# the question asks which row: "which model ...", "what method ...", not "what batch size ..."
_ASKS_ROW = re.compile(
    r"\b(which|who)\b|\bwhat\s+(?:\w+\s+)?(model|method|architecture|variant|baseline|task|"
    r"configuration|setting|dataset)s?\b",
    re.IGNORECASE,
)
# "Random Baseline", Table 10's "#Params (M)": rows that are not results to compare
_NOT_A_MODEL = re.compile(r"\b(random|chance)\b|#?\bparams\b", re.IGNORECASE)
_MIN_ROWS = 3  # fewer rows are not a comparison worth a superlative


@dataclass(frozen=True)
class Extreme:
    """The row holding the extreme value of a column, and what was compared."""

    row: Document
    label: str  # the row's label ("LSTM (Block)")
    value: str  # its cell ("0.495")
    column: str  # "ListOps acc ↑"
    table: str  # "Table 6", "Table 3 (1.3B)"
    compared: int  # rows with a value in the column
    word: str  # the question's own: "highest", "largest", "best", "worst" ...

    def short_answer(self) -> str:
        return (
            f"{self.label} — {self.value}, the {self.word} {self.column} of {self.table}'s "
            f"{self.compared} rows"
        )


def superlative(question: str) -> str | None:
    """ "highest" or "lowest" for a question asking which row is highest, best, worst ...,
    "best" or "worst" when the column decides; None otherwise."""
    match = _asked_superlative(question)
    return _direction(match.group(1).lower()) if match else None


def _asked_superlative(question: str) -> re.Match[str] | None:
    """The superlative of a question that asks which row: its word and what it measures."""
    match = _SUPERLATIVE.search(question)
    return match if match and _ASKS_ROW.search(question) else None


def _direction(word: str) -> str:
    return "highest" if word in _HIGH else "lowest" if word in _LOW else word


def table_extreme(
    question: str,
    sources: Sequence[str],
    tables_of: Callable[[str], Sequence[int]] | None,
    rows_of: Callable[[str, int], Sequence[Document]] | None,
) -> Extreme | None:
    """The extreme row of the column the question names, over the tables of `sources` (the
    table whose column and caption share most of the question's words); None when the question
    is no superlative, names no column, or no table compares enough rows."""
    match = _asked_superlative(question)
    if match is None or tables_of is None or rows_of is None:
        return None
    word = match.group(1).lower()  # said as asked: "the largest #Params M"
    asked = column_words(question)
    measured = column_words(match["measure"])  # what is highest: "largest *parameter count*"
    sizes = set(model_sizes(question))
    found: list[tuple[tuple[int, int, int], Extreme]] = []
    for source in dict.fromkeys(sources):
        for table in tables_of(source):
            if best := _table_extreme(rows_of(source, table), (measured, asked), sizes, word):
                found.append(best)
    return max(found, key=lambda f: f[0])[1] if found else None


def extreme_short(
    question: str,
    sources: Sequence[str],
    tables_of: Callable[[str], Sequence[int]] | None,
    rows_of: Callable[[str, int], Sequence[Document]] | None,
    doc_index: int,
    scored: Sequence[Candidate] = (),
) -> ShortAnswer | None:
    """The short answer to a superlative question (`table_extreme`), cut from the extreme row,
    which is quoted first: as the `scored` candidate of the same text when the evidence holds
    it (its reader scores show with the quote), else as a new unit marked as read beyond the
    `doc_index` retrieved documents."""
    extreme = table_extreme(question, sources, tables_of, rows_of)
    if extreme is None:
        return None
    row = extreme.row
    text = " ".join(row.page_content.split())
    known = next((c for c in scored if c.kind == "table_row" and c.text == text), None)
    unit = known or Candidate(text, doc_index, row.metadata, kind="table_row")
    return ShortAnswer(extreme.short_answer(), (unit,))


def _table_extreme(
    rows: Sequence[Document], asked: tuple[set[str], set[str]], sizes: set[str], word: str
) -> tuple[tuple[int, int, int], Extreme] | None:
    """((measure fit, column fit, caption fit), the extreme row) of one table, or None;
    `asked`: the words of what the superlative measures, and all the question's words."""
    parsed = [(doc, p) for doc in rows if (p := parse_row(doc.page_content)) is not None]
    groups = {table for _, (table, _, _) in parsed if "(" in table}
    if groups:  # rows grouped by model size: compare within the size the question names
        parsed = [(d, p) for d, p in parsed if set(model_sizes(p[0])) & sizes]
    if not parsed:
        return None
    widest = max((p[2] for _, p in parsed), key=len)
    column, fit = _asked_column(widest, *asked)
    if not fit[1]:
        return None
    values = [
        (float(number), doc, cells[0][1], value, table)
        for doc, (table, _, cells) in parsed
        for name, value in cells[1:]
        if name == column and not _NOT_A_MODEL.search(cells[0][1])
        if (number := _number(value)) is not None
    ]
    if len(values) < _MIN_ROWS:
        return None
    high = _wants_high(_direction(word), column)
    best = (max if high else min)(v[0] for v in values)
    tied = [v for v in values if v[0] == best]
    _, doc, _, value, table = tied[0]
    label = " and ".join(v[2] for v in tied)  # a tie names every row holding the value
    caption_fit = len(content_words(str(doc.metadata.get("caption") or "")) & asked[1])
    extreme = Extreme(doc, label, value, column, table, len(values), word)
    return (*fit, caption_fit), extreme


def _asked_column(
    cells: Sequence[tuple[str, str]], measured: set[str], asked: set[str]
) -> tuple[str, tuple[int, int]]:
    """The value column (not the row label) sharing most words with what the superlative
    measures, then with the whole question, and how many of each; ("", (0, 0)) unless it
    shares a word beyond a bare measure ("ListOps" of "ListOps acc ↑") or is the one column
    the question's words fit ("accuracy" of a one-measure table)."""
    shared = [(column_terms(c), c) for c, _ in cells[1:]]
    shared = [(terms & measured, terms & asked, c) for terms, c in shared if terms & asked]
    if not shared:
        return "", (0, 0)
    first, words, column = max(shared, key=lambda s: (len(s[0]), len(s[1])))
    specific = words - _GENERIC
    fit = (len(first), len(words))
    return (column, fit) if specific or len(shared) == 1 else ("", (0, 0))


def _number(value: str) -> float | None:
    numbers = numbers_in(value)
    try:
        return float(numbers[0].replace(",", "")) if numbers else None
    except ValueError:
        return None


def _wants_high(word: str, column: str) -> bool:
    """Whether the extreme asked for is the largest value of `column`."""
    if word in ("highest", "lowest"):
        return word == "highest"
    lower_better = "↓" in column or (
        "↑" not in column and bool(header_words(column) & _LOWER_IS_BETTER)
    )
    return (word == "best") != lower_better
