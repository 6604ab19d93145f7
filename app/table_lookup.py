"""Tables a question asks about by name: the value in a table that retrieval did not reach.

A question that names a row of a paper's table ("Mamba", "xLSTM[1:0]", "GLA") and one of its
columns or caption words ("HellaSwag", "perplexity") asks about that table even when no
retrieved unit shows or points to it. `tables_asked` finds such tables in the papers the
evidence comes from; their rows are then read like the rows of a table the evidence names
(`app.evidence.table_candidates`). `expand_acronyms` lets "Gated Linear Attention" find the row
labelled "GLA": the paper defines the acronym, the question spells it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence

from langchain_core.documents import Document

from app.reader import content_words
from app.refusal import specific_names
from app.short_answer import ShortAnswer
from app.table_cells import (
    COLUMN_SYNONYMS,
    column_words,
    joined_words,
    model_sizes,
    parse_row,
    squash,
)
from ingest.words import name_key, name_keys


def expand_acronyms(question: str, acronyms: Mapping[str, str]) -> str:
    """`question` with the acronym after each long form the paper defines and the question
    spells out without it: "Gated Linear Attention" → "Gated Linear Attention (GLA)"."""
    out = question
    for long, short in acronyms.items():
        if short.lower() in question.lower():
            continue
        words = r"[- ]".join(re.escape(w) for w in re.split(r"[- ]", long))
        pattern = re.compile(rf"\b{words}s?\b", re.IGNORECASE)
        out = pattern.sub(lambda m, s=short: f"{m.group(0)} ({s})", out, count=1)
    return out


def tables_asked(
    question: str,
    sources: Sequence[str],
    tables_of: Callable[[str], Sequence[int]],
    rows_of: Callable[[str, int], Sequence[Document]],
    max_tables: int = 2,
) -> list[tuple[str, int]]:
    """(paper file, table number) of the tables of `sources` with a row the question names
    and a column or caption word it uses, best first: most such words, then most rows named."""
    names = {key for key in name_keys(question) if not key.isdigit()}
    asked = column_words(question)
    found = []
    for source, table, rows in _tables(sources, tables_of, rows_of):
        named = sum(bool(_label_keys(str(r.metadata.get("row", ""))) & names) for r in rows)
        header = _header_words(rows[0]) if rows and named else set()
        if overlap := len(asked & header):
            found.append((overlap, named, source, table))
    found.sort(key=lambda f: (-f[0], -f[1]))
    return [(source, table) for _, _, source, table in found[:max_tables]]


def reported_elsewhere(
    short: ShortAnswer,
    asked: Sequence[tuple[str, int]],
    rows_of: Callable[[str, int], Sequence[Document]] | None,
) -> bool:
    """Whether a model size the short answer's closest row lacks ("350M" in `short.missing`) is
    reported by another table the question asks about (`asked`, from `tables_asked`): then
    that row's table is the wrong one (Table 10's "manosphere" domain for "the Manosphere
    perplexity of the 350M xLSTM[1:0]", which Table 9 reports), not a sign that no paper does."""
    sizes = {m for m in short.missing if model_sizes(m) == [m]}
    if not sizes or rows_of is None or not short.units:
        return False
    meta = short.units[0].metadata
    own = (str(meta.get("source", "")), meta.get("table"))
    for source, table in asked:
        if (source, table) != own:
            reported = {s for row in rows_of(source, table) for s in model_sizes(row.page_content)}
            if sizes <= reported:
                return True
    return False


_COLUMNS = re.compile(r"\(columns: (.*)\)\s*$|$", re.S)


def _label_keys(label: str) -> set[str]:
    """How a question may name a row: its whole label ("Mamba", "GPT-3"), that label without
    the size group ingest appends to a row's name ("Llama" of "Llama (1.3B)"), or a specific
    name inside it ("xLSTM[1:0]" and "ReLU2" of "xLSTM[1:0] Post Up-Projection Block (ReLU2)")."""
    bare = _GROUP.sub("", label)
    names = {name_key(label), name_key(bare)} | {name_key(n) for n in specific_names(label)}
    return names - {""}


_GROUP = re.compile(r"\s*\(\d+(?:\.\d+)?[KMBT]\)$")  # "(1.3B)", as `ingest.units` names rows


def _header_words(row: Document) -> set[str]:
    """Content words of the row's caption and column names (not its values or label)."""
    parsed = parse_row(row.page_content)
    if parsed is None:
        return set()
    _, caption, cells = parsed
    caption = str(row.metadata.get("caption") or caption)
    unaligned = _COLUMNS.search(row.page_content).group(1) or ""  # "(columns: Model #Params M GAB)"
    header = " ".join([caption, *(c for c, _ in cells[1:]), unaligned])
    words = content_words(header) | joined_words(header)  # "twitteraae" for "Twitter AAE"
    return {COLUMN_SYNONYMS.get(w, w) for w in words}


def paper_acronyms(sources: Sequence[str], acronyms_of: Callable[[str], Mapping[str, str]] | None):
    """Long form → acronym, as the papers of `sources` define them (the first paper wins)."""
    merged: dict[str, str] = {}
    for source in sources if acronyms_of is not None else ():
        for long, short in acronyms_of(source).items():
            merged.setdefault(long, short)
    return merged


def table_text(
    sources: Sequence[str],
    tables_of: Callable[[str], Sequence[int]] | None,
    rows_of: Callable[[str, int], Sequence[Document]] | None,
) -> str:
    """Everything the tables of `sources` write (row labels, column names, captions, values),
    as one string of lower-case letters and digits: a name key ("twitteraae") is in it when a
    table writes the name, also across a space ("Twitter AAE")."""
    if tables_of is None or rows_of is None:
        return ""
    return "|".join(
        squash(row.page_content)
        for _, _, rows in _tables(sources, tables_of, rows_of)
        for row in rows
    )


def _tables(
    sources: Sequence[str],
    tables_of: Callable[[str], Sequence[int]],
    rows_of: Callable[[str, int], Sequence[Document]],
) -> Iterator[tuple[str, int, Sequence[Document]]]:
    """(paper file, table number, its rows) of every table of `sources`."""
    for source in dict.fromkeys(sources):
        for table in tables_of(source):
            yield source, table, rows_of(source, table)
