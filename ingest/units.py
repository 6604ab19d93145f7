"""Evidence units: what kind each stretch of a page is, and tables as row units.

Kinds (`kind` in every chunk's metadata): `text` (prose), `heading` (a section heading with no
prose after it on its page; headings otherwise open the text chunk that follows them and live in
`section`), `caption` (figure and table captions), `equation` (display maths, usually with its
equation numbers), `reference` (bibliography entries), `table` (a whole parsed table) and
`table_row` (one row, self-describing: "Table 1 (…): Model = GPT-3; #Params M = 356; …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.pdf_text import PageText
from ingest.tables import Row, Table, caption_at

TEXT, HEADING, CAPTION, EQUATION, REFERENCE = "text", "heading", "caption", "equation", "reference"
TABLE, TABLE_ROW = "table", "table_row"
KINDS = (TEXT, TABLE, TABLE_ROW, CAPTION, EQUATION, REFERENCE, HEADING)

_REFERENCES = re.compile(r"^(?:\d{1,2}\.?\s+)?(?:references|bibliography)$", re.IGNORECASE)
_WORD = re.compile(r"^[(\"“]?[A-Za-z][a-z]{2,}[)\".,;:”]?$")
_EQUATION_NUMBER = re.compile(r"\(\d{1,3}\)")
_MATH = re.compile(r"[=≤≥≈∑∏∫√∂∇⊙⊤⊗←→↦∈]")


@dataclass(frozen=True)
class Segment:
    """A stretch of one page's text of one kind, at `start` in `page.text`."""

    kind: str
    start: int
    text: str


def is_equation(block: str) -> bool:
    """Display maths: few words, several maths symbols or an equation number."""
    tokens = block.split()
    if not tokens:
        return False
    words = sum(bool(_WORD.match(t)) for t in tokens) / len(tokens)
    maths = len(_MATH.findall(block))
    numbers = len(_EQUATION_NUMBER.findall(block))
    return words < 0.35 and (maths >= 2 or (maths >= 1 and numbers >= 1))


def is_references(section: str | None) -> bool:
    """Whether `section` is the bibliography."""
    return bool(section and _REFERENCES.match(section.strip()))


def page_segments(page: PageText) -> list[Segment]:
    """The page's text cut into segments of one kind each, in order.

    A heading joins the prose after it (so a chunk keeps its heading's words); consecutive
    prose blocks form one segment, which the chunker then splits (see `chunk_kind`).
    """
    headings = {start for start, _ in page.sections}
    blocks = _blocks(page.text)
    kinds = [_block_kind(page, start, block, start in headings) for start, block in blocks]
    segments: list[Segment] = []
    pending_heading: int | None = None
    for (start, block), kind in zip(blocks, kinds, strict=True):
        if kind == HEADING:
            pending_heading = start if pending_heading is None else pending_heading
            continue
        first = pending_heading if pending_heading is not None else start
        pending_heading = None
        if segments and segments[-1].kind == kind and kind in (TEXT, REFERENCE) and first == start:
            first = segments.pop().start
        segments.append(Segment(kind, first, page.text[first : start + len(block)]))
    if pending_heading is not None:
        segments.append(Segment(HEADING, pending_heading, page.text[pending_heading:]))
    return segments


def _blocks(text: str) -> list[tuple[int, str]]:
    blocks, offset = [], 0
    for block in text.split("\n\n"):
        if block.strip():
            blocks.append((offset, block))
        offset += len(block) + 2
    return blocks


def _block_kind(page: PageText, start: int, block: str, heading: bool) -> str:
    if heading:
        return HEADING
    if caption_at(block.split("\n", 1)[0]):
        return CAPTION
    if is_references(page.section_at(start)):
        return REFERENCE
    return TEXT


def chunk_kind(segment_kind: str, text: str) -> str:
    """The kind of one chunk of a segment: prose chunks that are display maths are equations.

    Decided per chunk, not per block: pypdf joins an equation and the prose around it into
    one paragraph."""
    return EQUATION if segment_kind == TEXT and is_equation(text) else segment_kind


def table_units(table: Table) -> list[tuple[str, str, dict]]:
    """(kind, text, extra metadata) for the whole table and for each of its rows."""
    extra = {"table": table.number, "table_name": table.name, "caption": table.caption}
    units = [(TABLE, table.text(), dict(extra))]
    units.extend(
        (TABLE_ROW, table.row_text(row), {**extra, "row": _row_name(row)}) for row in table.rows
    )
    return units


def _row_name(row: Row) -> str:
    return f"{row.label} ({row.group})" if row.group else row.label
