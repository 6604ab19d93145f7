"""How an answer reads: its quotes, each followed by its page citation, within a word budget.

`compose` writes prose (bullets for list questions) from the chosen units, opened by the short
answer when there is one; `quoted` is how a unit is quoted (a table row without its caption);
`within_words` stops quoting at the answer's word budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.evidence import Candidate
from app.table_cells import asked_columns, parse_row

_LIST_CUES = re.compile(
    r"\b(bullet|list|enumerate|which (are|were)|what are|name (the|all)|improvements|"
    r"advantages|differences|components|steps)\b",
    re.IGNORECASE,
)


@dataclass
class Citation:
    paper: str
    page: int
    quote: str
    kind: str = "text"  # the quoted unit's role: text, table_row, window, ... (app.reader.ROLES)
    score: float = 0.0  # the unit's evidence score (dense + lexical + readers)
    reader: float = 0.0  # the readers' part of it
    xlstm: float = 0.0  # the xLSTM reader's part of that (0: it did not read this unit)
    span: str = ""  # the short span the trained xLSTM reader chose in this quote ("" if none)


def paper_label(metadata: dict) -> str:
    """A short name for citations: "xLSTM" from "xLSTM: Extended Long Short-Term Memory"."""
    title = str(metadata.get("title") or "").strip()
    head = title.split(":")[0].strip()
    if head and len(head) <= 24:
        return head
    return str(metadata.get("source") or "paper").removesuffix(".pdf")


def cite(metadata: dict) -> str:
    return f"[{paper_label(metadata)}, p. {metadata.get('page', '?')}]"


def is_list_question(question: str) -> bool:
    return bool(_LIST_CUES.search(question))


def quoted(unit: Candidate, question: str = "") -> str:
    """The unit as the answer quotes it: a table row without its caption ("Table 1: Model =
    GPT-3; ... = 14.26"; the citation keeps the whole unit) and, when the `question` names some
    of its columns, with only its label and those cells ("…" marks the cells left out); anything
    else as stored."""
    if unit.kind != "table_row" or (row := parse_row(unit.text)) is None:
        return unit.text
    table, _, cells = row
    keep = asked_columns(question, cells) if question else []
    if keep and len(keep) < len(cells) - 1:
        text = "; ".join(_cell(c, v) for c, v in [cells[0], *(cells[i] for i in keep)])
        return f"{table}: {text}; …"
    return f"{table}: " + "; ".join(_cell(column, value) for column, value in cells)


def _cell(column: str, value: str) -> str:
    """ "#Params M = 356"; a row label without a column name stays bare ("Llama")."""
    return f"{column} = {value}" if column else value


def compose(
    question: str, chosen: list[Candidate], short: str | None = None
) -> tuple[str, list[Citation]]:
    """Prose (or bullets for list questions), each sentence followed by its page citation;
    opened by the short answer (cut from the first quote) when there is one."""
    citations = [
        Citation(
            str(c.metadata.get("source", "")),
            int(c.metadata.get("page", 0)),
            c.text,
            kind=c.kind,
            score=round(c.score, 4),
            reader=round(c.reader, 4),
            xlstm=round(c.xlstm, 4),
            span=c.xlstm_span,
        )
        for c in chosen
    ]
    if is_list_question(question):
        body = "\n".join(f"- {quoted(c, question)} {cite(c.metadata)}" for c in chosen)
    else:
        body = " ".join(f"{quoted(c, question)} {cite(c.metadata)}" for c in chosen)
    return (f"{short}\n\n{body}" if short else body), citations


def _words(text: str) -> int:
    return len(text.split())


def within_words(units: list[Candidate], budget: int, question: str = "") -> list[Candidate]:
    """The first units, in order, whose quotes (for `question`) fit in `budget` words (the first
    always does): a reader wants the answer, not every quote that scored near it."""
    kept, used = [], 0
    for unit in units:
        used += _words(quoted(unit, question))
        if kept and used > budget:
            break
        kept.append(unit)
    return kept
