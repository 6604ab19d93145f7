"""A document's tables, page by page, and the part of a table that the next page continues.

Long tables (an appendix's per-domain results, Table 10 of the xLSTM paper over eleven pages)
repeat their header at the top of each page, or go straight on with rows, and carry their caption
on the first page only. `continuation` reads such a page top as one more part of the table: same
name, caption and columns, its own page, `continued=True`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

from ingest import tables as page_tables
from ingest.table_rows import SIZE, Row, is_group, shift_label, split_row, unglue
from ingest.tables import Table

logger = logging.getLogger("ingest.tables")  # one logger for the table parser's warnings

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
        rows.append(replace(row, group=group))
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


def extract_tables(page_lines: list[list[str]], name: str) -> tuple[list[Table], list[list[str]]]:
    """Tables of a whole document, and its page lines without the parsed tables' lines.

    A table that cannot be parsed (no rows under its caption, ragged rows, running over the
    page end where the next page does not continue it, a parser error on the page) stays in the
    text; one warning line names them all.
    """
    tables: list[Table] = []
    failures: list[str] = []
    pending: Table | None = None  # runs over the previous page's end; kept once continued
    for number, lines in enumerate(page_lines, start=1):
        try:
            part = continuation(lines, pending, number) if pending is not None else None
            start = len(part.lines) if part is not None else 0
            found, failed = page_tables.find_tables(lines[start:], number)
            found = [replace(t, lines=tuple(i + start for i in t.lines)) for t in found]
        except Exception as e:  # a corrupt table region must not lose the page's text
            part, found, failed = None, [], [f"p{number} ({type(e).__name__}: {e})"]
        if pending is not None and part is None and not pending.continued:
            failures.append(f"{pending.name} p{pending.page} (runs over the page end)")
        if part is not None:
            tables.extend([pending] if not pending.continued else [])
            tables.append(part)
        pending = part if part is not None and part.open_end else None
        for table in found:
            if table.open_end:
                pending = table
            else:
                tables.append(table)
        failures.extend(failed)
    if pending is not None and not pending.continued:
        failures.append(f"{pending.name} p{pending.page} (runs over the page end)")
    if failures:
        logger.warning(
            "%s: %d table%s kept as plain text, not parsed into rows: %s",
            name,
            len(failures),
            "s" * (len(failures) != 1),
            "; ".join(failures),
        )
    return tables, _without_tables(page_lines, tables)


def _without_tables(page_lines: list[list[str]], tables: list[Table]) -> list[list[str]]:
    """Each page's lines less those its kept tables used."""
    used: dict[int, set[int]] = {}
    for table in tables:
        used.setdefault(table.page, set()).update(table.lines)
    return [
        [line for i, line in enumerate(lines) if i not in used.get(number, set())]
        for number, lines in enumerate(page_lines, start=1)
    ]
