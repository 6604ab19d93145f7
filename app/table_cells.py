"""Table rows read for the short answer: a self-describing row unit parsed into its table,
caption and cells ("Table 3 (caption), 1.3B: Model = xLSTM[1:0]; HellaSwag acc ↑ = 60.91"),
the cell in the column a question asks for ("what HellaSwag accuracy" → "HellaSwag acc ↑"),
one per measure of a compound question, and what a row lacks of what the question names
(models, sizes). Quoted from the row, never generated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.reader import Unit, content_words, numbers_in
from app.spans import question_parts

_ROW = re.compile(
    r"^(?P<table>Table\s*\w+)\s*(?:\((?P<caption>.*?)\))?(?P<group>[^:=;()]*):\s*(?P<cells>.+)$",
    re.S,
)
_TABLE_ASKED = re.compile(r"\bTable\s*(\d+)", re.IGNORECASE)
COLUMN_SYNONYMS = {  # question word -> the word table headers use
    "perplexity": "ppl",
    "perplexities": "ppl",
    "accuracy": "acc",
    "average": "avg",
    "parameter": "params",
    "parameters": "params",
    "dimension": "dim",
    "dimensions": "dim",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_Q_NAME = re.compile(r"\b\w[\w.\-]*\[\d+:\d+\]|\b(?:[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+)\b")
_Q_IGNORED = {"table", "figure", "what", "which", "how", "the", "in", "on", "for", "at", "to"}
_SPELLED_OUT = re.compile(r"\b((?:[A-Z][\w\-]*\s+)+)\(([A-Z][A-Za-z0-9]+)\)")
_GLOSS = re.compile(r"(?<=[a-z])\s+\([A-Z][A-Za-z0-9]+\)")


def gap_free_row(question: str, row: Unit, pool: Sequence[Unit]) -> Unit | None:
    """A row of `row`'s table in `pool` that names every model and size the question names and
    holds the asked cell, when `row` lacks one: the 1.3B Llama row for "the 1.3B Llama", not
    the 760M row that ranked higher. None when `row` has no gap or no such row is at hand."""
    table = (row.metadata.get("source"), row.metadata.get("table"))
    if table[1] is None or not row_gaps(question, row.text):
        return None
    for unit in pool:
        same = (unit.metadata.get("source"), unit.metadata.get("table")) == table
        other = unit.kind == "table_row" and unit is not row and same
        if other and not row_gaps(question, unit.text) and _asked_cell(question, unit.text):
            return unit
    return None


def column_words(question: str) -> set[str]:
    """The question's content words, and as table headers write them ("accuracy" → "acc")."""
    words = content_words(question)
    return words | {COLUMN_SYNONYMS.get(w, w) for w in words}


def header_words(column: str) -> set[str]:
    """A header's words, run-together ones apart too ("EmbeddingDim" → "embedding", "dim")."""
    return content_words(column) | content_words(_CAMEL.sub(" ", column))


def column_terms(column: str) -> set[str]:
    """Every way a question may name a column: its header words (`header_words`) and its
    words run together (`joined_words`: "twitteraae" for "Twitter AAE")."""
    return header_words(column) | joined_words(column)


def parse_row(text: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """("Table 1", caption, [(column, value), ...]) of a self-describing table row; a row
    group ("Table 3 (caption), 1.3B: ...") joins the table label: "Table 3 (1.3B)"."""
    match = _ROW.match(" ".join(text.split()))
    if match is None:
        return None
    cells = []
    for i, part in enumerate(match["cells"].split(";")):
        column, sep, value = part.partition("=")
        if sep and value.strip():
            cells.append((column.strip(), value.strip()))
        elif i == 0 and part.strip():  # "Table 6 (...): Llama; Retrieval acc ↑ = 0.845"
            cells.append(("", part.strip()))
    group = match["group"].strip(" ,")
    table = f"{match['table']} ({group})" if group else match["table"]
    return (table, match["caption"] or "", cells) if any(c for c, _ in cells) else None


def table_answer(question: str, row_text: str, others: Sequence[str] = ()) -> str | None:
    """ "13.70 — Mamba, Table 1, SlimPajama (15B) ppl ↓": the row's cell in the column the
    question asks about (None when it names none of the row's columns), with its row label; then
    "; 13.48 — xLSTM[7:1]" for each of `others` (rows of the same table the question names).
    A compound question ("What LAMBADA perplexity and HellaSwag accuracy ...") gets a cell per
    measure: "6.86 (LAMBADA ppl ↓); 60.91 (HellaSwag acc ↑) — xLSTM[1:0], Table 3 (1.3B)".
    Marked "closest row" when the question names a row or a table that none of them is."""
    parts = [part for part, _ in question_parts(question)] or [question]
    cells = _cells(parts, row_text)
    if not cells:
        return None
    value, label, table, column = cells[0]
    if len(cells) > 1:
        text = "; ".join(f"{v} ({c})" for v, _, _, c in cells) + f" — {label}, {table}"
    else:
        text = f"{value} — {label}, {table}, {column}"
    for other in others:
        if more := _cells(parts, other):
            text += f"; {' / '.join(c[0] for c in more)} — {more[0][1]}"
    missing = row_gaps(question, " ".join([row_text, *others]))
    if other := other_table(question, table):
        missing.append(other)
    return f"closest row (no row for {', '.join(missing)}): {text}" if missing else text


def other_table(question: str, table: str) -> str | None:
    """ "Table 7" when the question names Table 7 and `table` (a row's label: "Table 8",
    "Table 3 (1.3B)") is another one; None otherwise."""
    asked = _TABLE_ASKED.search(question)
    if asked and not re.match(rf"Table\s*{asked.group(1)}\b", table):
        return f"Table {asked.group(1)}"
    return None


def _cells(parts: Sequence[str], row_text: str) -> list[tuple[str, str, str, str]]:
    """The row's asked cell for each part of the question, one per column (`_asked_cell`)."""
    cells = [cell for part in parts if (cell := _asked_cell(part, row_text)) is not None]
    return list({cell[3]: cell for cell in cells}.values())


def _asked_cell(question: str, row_text: str) -> tuple[str, str, str, str] | None:
    """(value, row label, table, column) of the row's cell in the column the question names (a
    one-value row: that value); None when the question names none of several columns."""
    parsed = parse_row(row_text)
    if parsed is None:
        return None
    table, _, cells = parsed
    numeric = [(c, v) for c, v in cells[1:] if numbers_in(v)]
    if not numeric:
        return None
    asked = column_words(question)
    whole = _hyphenated(question)  # "G-Image" is not "RGB-Image", though both say "image"
    measure = wh_measure(question)

    def fit(column: str) -> float:
        return (
            len(column_terms(column) & asked)
            + 0.5 * len(_hyphenated(column) & whole)
            + _MEASURE_WEIGHT * bool(measure & header_words(column))
        )

    overlap, _, (column, value) = max((fit(c), i, (c, v)) for i, (c, v) in enumerate(numeric))
    if not overlap and len(numeric) > 1:  # which of several values is asked is unknown
        return None
    return value, cells[0][1], table, column


_WH_MEASURE = re.compile(r"\b(?:what|which)\s+((?:[\w-]+\s+){0,2}[\w-]+)\s", re.IGNORECASE)
_MEASURE_WEIGHT = 10  # the measure asked for outweighs the words of the row's conditions


def wh_measure(question: str) -> set[str]:
    """The measure right after "what"/"which", as headers write it: "what (validation)
    perplexity does ... when only the input gate is learnable" asks for the "ppl" column, not
    the "Input Gate Learnable Bias" one that shares more of its words."""
    match = _WH_MEASURE.search(question)
    words = column_words(match.group(1)) if match else set()
    return words & _MEASURES


def _hyphenated(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"(?<![\w-])\w+(?:-\w+)+", text)}


def asked_columns(question: str, cells: Sequence[tuple[str, str]]) -> list[int]:
    """Indices of the cells (after the row label) the question asks about, [] when it names no
    column: the column naming most of its words ("LAMBADA accuracy": "LAMBADA acc", not every
    "acc" column, nor "LAMBADA ppl"), each column named by another word that is no measure, and
    the model size ("#Params")."""
    asked = column_words(question)
    words = [content_words(column) & asked if i else set() for i, (column, _) in enumerate(cells)]
    best = max((len(w) for w in words), default=0)
    if not best:
        return []
    top = [i for i, w in enumerate(words) if len(w) == best]
    covered = set().union(*(words[i] for i in top)) | _MEASURES
    named = [*top, *(i for i, w in enumerate(words) if w - covered)]
    size = [i for i, (c, _) in enumerate(cells) if i and "params" in content_words(c)]
    return sorted({*named, *size})


_MEASURES = {"acc", "ppl", "avg", "score", "loss"}


_EACH = re.compile(r"\b(each|every)\b", re.IGNORECASE)


def companion_rows(question: str, row: Unit, pool: Sequence[Unit], max_rows: int = 7) -> list[Unit]:
    """Rows of `row`'s table in `pool` labelled with a name the question gives and `row` lacks
    ("... do xLSTM[1:0] and xLSTM[7:1] reach": the second model's row); for a question about
    each row ("what perplexity does each reach"), the table's other rows (at most `max_rows`)."""
    parsed = parse_row(row.text)
    if parsed is None:
        return []
    out: list[Unit] = []
    if _EACH.search(question):  # "... and what perplexity does each reach?": the whole table
        same = [u for u in pool if u.kind == "table_row" and u is not row]
        return [u for u in same if (p := parse_row(u.text)) and p[0] == parsed[0]][:max_rows]
    for name in _names_missing(question, row.text):
        for unit in pool:
            other = parse_row(unit.text) if unit.kind == "table_row" else None
            if other and other[0] == parsed[0] and name.lower() == other[2][0][1].lower():
                if unit not in out and unit is not row:
                    out.append(unit)
                break
    return out


_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?([MB])\b(?!\s*tokens)")


def model_sizes(text: str) -> list[str]:
    """Model sizes a text states, compacted: "2.7B", "125M" (not "15B tokens")."""
    return list(dict.fromkeys(f"{m[1]}{m[2]}" for m in _SIZE.finditer(text)))


def row_gaps(question: str, row_text: str) -> list[str]:
    """What the question asks for that the rows lack: model names ("xLSTM[1:1]") and model sizes
    ("2.7B" when the rows are of the 1.3B models)."""
    sizes = set(model_sizes(row_text))
    return [
        *_names_missing(question, row_text),
        *(s for s in model_sizes(question) if s not in sizes),
    ]


def _names_missing(question: str, row_text: str) -> list[str]:
    """Names the question gives (models like "xLSTM[1:0]", "Mamba") that the row lacks."""
    row = row_text.lower()
    question = _SPELLED_OUT.sub(r"\2", question)  # "Gated Linear Attention (GLA)" names GLA
    question = _GLOSS.sub("", question)  # "batch size (BS)": an abbreviation, not a model
    rest = question.split(None, 1)[-1]  # the first word is capitalised anyway
    names = [m.group(0) for m in _Q_NAME.finditer(rest) if m.group(0).lower() not in _Q_IGNORED]
    joined = joined_words(row_text)  # "TwitterAAE" is the column "Twitter AAE"
    return [n for n in dict.fromkeys(names) if n.lower() not in row and squash(n) not in joined]


def joined_words(text: str) -> set[str]:
    """Each word of `text` and each two adjacent words run together, lower-cased letters and
    digits only: a name written with or without its space ("Twitter AAE", "TwitterAAE")."""
    words = [w for w in (squash(t) for t in text.split()) if w]
    return {*words, *(a + b for a, b in zip(words, words[1:], strict=False))}


def squash(text: str) -> str:
    """Lower-case letters and digits only: "Twitter AAE" → "twitteraae"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())
