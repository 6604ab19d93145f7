"""Tables that run over a page end: the part of a table that the next page continues.

Long tables (an appendix's per-domain results, Table 10 of the xLSTM paper over eleven pages)
repeat their header at the top of each page, or go straight on with rows, and carry their caption
on the first page only. `continuation` reads such a page top as one more part of the table: same
name, caption and columns, its own page, `continued=True`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from ingest.table_rows import SIZE, Row, is_group, shift_label, split_row, unglue

if TYPE_CHECKING:  # ingest.tables uses this module
    from ingest.tables import Table

_MAX_HEADER_LINES = 4


def continuation(lines: list[str], table: Table, page: int) -> Table | None:
    """The part of `table` (open at the end of the page before) at the top of `lines`: its
    header repeated (or not), then rows as wide as its own; None when the page does not go on
    with it. Without a repeated header, two such rows must open the page."""
    if not table.rows:
        return None
    cells = Counter(len(r.cells) for r in table.rows).most_common(1)[0][0]
    start = _repeated_header(lines, table.header)
    rows: list[Row] = []
    group, end = table.rows[-1].group, start
    for line in lines[start:]:
        if is_group(line) and SIZE.match(line.strip()):  # "1.3B": a new block of rows
            group, end = line.strip(), end + 1
            continue
        row = split_row(line)
        if row is None:
            break
        row = unglue(shift_label(row, cells), cells)
        rows.append(Row(label=row.label, cells=row.cells, group=group))
        end += 1
    fitting = sum(len(r.cells) == cells for r in rows)
    if fitting < (1 if start else 2) or fitting * 2 <= len(rows):
        return None
    return replace(
        table,
        page=page,
        rows=tuple(rows),
        lines=tuple(range(end)),
        open_end=end >= len(lines),
        continued=True,
    )


def _repeated_header(lines: list[str], header: str) -> int:
    """How many of the first lines repeat `header` (0 when they do not)."""
    if not header:
        return 0
    for count in range(1, min(_MAX_HEADER_LINES, len(lines)) + 1):
        if " ".join(" ".join(lines[:count]).split()) == header:
            return count
    return 0
