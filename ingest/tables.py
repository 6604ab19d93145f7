"""Tables in pypdf's page text: rows as self-describing lines, with their caption and columns.

pypdf keeps a table's rows in order, one per line ("GPT-3 356 14.26"), the header line(s) above
them ("Model #Params M SlimPajama (15B) ppl ↓") and the caption nearby ("Table 1: …"), even where
layout-based finders (pdfplumber, camelot) miss the table. A *run* is a block of consecutive row
lines (a label followed by value cells: numbers, "-", ✓/✗, …) under stacked header lines; it
belongs to the nearest "Table N:" (or "Figure N:") caption on its page. Column names come from
splitting the header (see `columns`); when that split is not certain, rows keep their values in
order and the header is quoted instead of guessing which value is which.

`find_tables(lines, page)` parses one page; what fails (a caption without a parsable run, ragged
rows) is returned as a reason so the caller can keep that region as text. A table that runs over
the page end is returned `open_end`: `ingest.table_pages.extract_tables` keeps it only when the
next page continues it, and otherwise leaves its region as text with a warning.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from ingest.table_header import split_header
from ingest.table_rows import SIZE, Row, is_cell, is_group, shift_label, split_row, unglue

logger = logging.getLogger(__name__)

_CAPTION = re.compile(r"^(?P<kind>Table|Figure|Fig\.)\s+(?P<num>[A-Z]?\d{1,3})[:.]\s*(?P<rest>.*)$")
_MAX_HEADER_LINES = 16
_MAX_CAPTION = 90
_MAX_TITLE_WORDS = 4  # a caption's own title before a colon: the row prefix every row repeats


@dataclass(frozen=True)
class Table:
    """A parsed table (or a table inside a figure)."""

    name: str  # "Table 1" or "Figure 7"
    number: int
    caption: str  # the caption's first sentence, shortened
    page: int
    header: str  # header line(s) as one line
    columns: tuple[str, ...] | None  # label column name ("" if none) + one name per value cell
    rows: tuple[Row, ...]
    lines: tuple[int, ...] = field(default=(), repr=False)  # page line indices the table used
    open_end: bool = False  # its rows run to the page's last line: the next page may continue it
    continued: bool = False  # the part of a table that continues it from the page before

    def title(self) -> str:
        """The name and the caption's first sentence: "Table 1 (Method comparison …)"."""
        return f"{self.name} ({self.caption})" if self.caption else self.name

    def row_text(self, row: Row) -> str:
        """The row as one self-describing line, e.g.
        "Table 1 (…): Model = GPT-3; #Params M = 356; SlimPajama (15B) ppl ↓ = 14.26"."""
        prefix = f"{self.title()}, {row.group}" if row.group else self.title()
        return f"{prefix}: {self.row_body(row)}"

    def row_body(self, row: Row) -> str:
        """The row's fields without the table title."""
        if self.columns is None or len(row.cells) != len(self.columns) - 1:
            values = " | ".join(row.cells)
            columns = f" (columns: {self.header})" if self.header else ""
            return f"{row.label} = {values}{columns}"
        label_name, *names = self.columns
        first = f"{label_name} = {row.label}" if label_name else row.label
        return "; ".join([first] + [f"{n} = {v}" for n, v in zip(names, row.cells, strict=True)])

    def text(self) -> str:
        """The whole table: title, then one line per row."""
        title = f"{self.name}: {self.caption}" + (" (continued)" if self.continued else "")
        lines, group = [title], None
        for row in self.rows:
            if row.group != group and row.group:
                lines.append(f"{row.group}:")
            group = row.group
            lines.append(self.row_body(row))
        return "\n".join(lines)


@dataclass(frozen=True)
class _Run:
    start: int  # first row line
    end: int  # one past the last row line
    header_start: int
    rows: tuple[Row, ...]
    cells: int  # the run's cell count


def caption_at(line: str) -> tuple[str, int, str] | None:
    """("Table", 1, "Method comparison …") when `line` opens a table or figure caption."""
    match = _CAPTION.match(line)
    if not match or not match.group("num").isdigit():
        return None
    kind = "Figure" if match.group("kind").startswith("Fig") else "Table"
    return kind, int(match.group("num")), match.group("rest")


def find_tables(lines: list[str], page: int) -> tuple[list[Table], list[str]]:
    """Tables on one page of cleaned lines, and one reason per table caption left unparsed."""
    captions = {i: c for i, line in enumerate(lines) if (c := caption_at(line))}
    if not captions:
        return [], []
    runs = _runs(lines)
    tables: list[Table] = []
    failures: list[str] = []
    claimed: set[int] = set()
    for run in runs:
        index = _caption_for(run, captions, lines)
        if index is None:
            continue
        kind, number, _ = captions[index]
        table = _table(lines, run, index, captions[index], page)
        if run.end >= len(lines) and kind == "Table":
            table = replace(table, open_end=True)  # kept if the next page continues it
        if kind == "Figure" and (table.columns is None or index - run.end > 2 or len(run.rows) < 3):
            continue  # a figure's plot labels, not a table beside it
        tables.append(table)
        claimed.add(index)
    for index, (kind, number, _) in captions.items():
        if kind == "Table" and index not in claimed:
            failures.append(f"{kind} {number} p{page} (no rows found)")
    return tables, failures


def _table(
    lines: list[str], run: _Run, caption_line: int, caption: tuple[str, int, str], page: int
) -> Table:
    kind, number, _ = caption
    header_lines = [ln for ln in lines[run.header_start : run.start] if not is_group(ln)]
    header = " ".join(header_lines)
    columns = None
    if _plausible_header(header):
        columns = split_header(header, run.cells, one_line=len(header_lines) == 1)
    else:
        header = ""  # rows of the table itself, or garbled text: not worth quoting
    sentence = caption_sentence(lines, caption_line)
    return Table(
        name=f"{kind} {number}",
        number=number,
        caption=caption_summary(sentence),
        page=page,
        header=header,
        columns=columns,
        rows=caption_size(sentence, run.rows),
        lines=tuple(range(run.header_start, run.end)),
    )


def _plausible_header(header: str) -> bool:
    """Column names, not rows or prose: few numbers, no sentence ends, printable text."""
    tokens = header.split()
    numbers = sum(is_cell(t) for t in tokens)
    printable = all(ch.isprintable() for ch in header)
    return bool(tokens) and printable and numbers <= 0.25 * len(tokens) and ". " not in header


def caption_summary(sentence: str) -> str:
    """A caption's first sentence (`caption_sentence`), at most ~90 characters; only its title
    when it opens with one of words ("PPL Evaluations: For the 1.3B models …"): a long
    description repeated on each of a long table's rows makes every row look alike."""
    title, colon, _ = sentence.partition(": ")
    words = title.split()
    if colon and 2 <= len(words) <= _MAX_TITLE_WORDS and all(w.isalpha() for w in words):
        sentence = title
    if len(sentence) > _MAX_CAPTION:
        sentence = sentence[:_MAX_CAPTION].rsplit(" ", 1)[0] + " …"
    return sentence


def caption_sentence(lines: list[str], index: int) -> str:
    """The whole first sentence of the caption starting at `lines[index]`."""
    text = ""
    for line in lines[index : index + 4]:
        text = text[:-1] + line if text.endswith("-") and line[:1].islower() else f"{text} {line}"
        if re.search(r"\.(\s|$)", text.split(":", 1)[-1]):
            break
    body = text.split(":", 1)[1] if ":" in text else text.split(".", 1)[-1]
    return re.split(r"(?<=[a-z0-9)])\.(?:\s|$)", body.strip(), maxsplit=1)[0].strip()


_ANY_SIZE = re.compile(r"\b(\d+(?:\.\d+)?[MB])\b(?!(?:\s+\S+)?\s+tokens)")  # not "300B (…) tokens"
_CAPTION_SIZE = re.compile(r"\b(\d+(?:\.\d+)?[MB])[\s-]+(?:sized|size|parameter)?\s*models?\b")


def caption_size(sentence: str, rows: tuple[Row, ...]) -> tuple[Row, ...]:
    """Rows of a table whose caption names the one model size of all of them ("For the 1.3B
    sized models …"), grouped under it as a size line would ("Table 10 (…), 1.3B: …"): the
    caption's title alone, which the rows repeat, no longer says it."""
    sizes = set(_ANY_SIZE.findall(sentence))  # "8B and 62B model": no one size
    if len(sizes) != 1 or set(_CAPTION_SIZE.findall(sentence)) != sizes:
        return rows
    if any(r.group for r in rows):
        return rows
    size = sizes.pop()
    return tuple(replace(r, group=size) for r in rows)


def _runs(lines: list[str]) -> list[_Run]:
    """Blocks of row lines (with group lines between them) under their header lines."""
    runs: list[_Run] = []
    i = 0
    while i < len(lines):
        if split_row(lines[i]) is None:
            i += 1
            continue
        start = i
        while start > 0 and is_group(lines[start - 1]) and split_row(lines[start - 1]) is None:
            start -= 1
        end = i
        while end < len(lines) and (split_row(lines[end]) or is_group(lines[end])):
            end += 1
        while end > i and split_row(lines[end - 1]) is None:
            end -= 1
        run = _make_run(lines, start, end)
        if run is not None:
            runs.append(run)
        i = max(end, i + 1)
    return runs


def _make_run(lines: list[str], start: int, end: int) -> _Run | None:
    rows: list[Row] = []
    size_group, model_group = "", ""
    for line in lines[start:end]:
        row = split_row(line)
        if row is None:  # a group line
            if SIZE.match(line.strip()):
                size_group, model_group = line.strip(), ""
            else:
                model_group = line.strip()
            continue
        first = row.label.split()[0]
        if model_group and any(ch.isdigit() or ch in "[]" for ch in first):
            model_group = ""  # the row names its own model
        label = f"{model_group} {row.label}" if model_group else row.label
        rows.append(Row(label=label, cells=row.cells, group=size_group))
    if len(rows) < 2:
        return None
    counts = [len(r.cells) for r in rows]
    cells = max(set(counts), key=counts.count)
    if cells >= 2 and all(SIZE.match(r.cells[0]) for r in rows if len(r.cells) == cells):
        cells -= 1  # every row's first value is a size: it belongs to the label ("GPT-NeoX 20B")
    # "Llama 1.3B": a size in the label; "…_medicine9.14": a value glued to it
    rows = [unglue(shift_label(r, cells), cells) for r in rows]
    if sum(len(r.cells) != cells for r in rows) * 2 > len(rows):
        return None
    header_start = _header_start(lines, start)
    if header_start == start:
        return None
    return _Run(start, end, header_start, tuple(rows), cells)


def _header_start(lines: list[str], start: int) -> int:
    """First of the short, non-sentence lines stacked right above a run (its header)."""
    i = start
    while i > 0 and start - i < _MAX_HEADER_LINES:
        line = lines[i - 1]
        sentence = line.endswith((".", ":", ";")) or len(line.split()) > 60
        if sentence or caption_at(line) or split_row(line) is not None:
            break
        i -= 1
    return i


def _caption_for(
    run: _Run, captions: dict[int, tuple[str, int, str]], lines: list[str]
) -> int | None:
    """The caption a run belongs to: the first one below it, else the nearest above it."""
    below = [i for i in captions if i >= run.end]
    if below:
        return min(below)
    above = [i for i in captions if i < run.header_start]
    return max(above) if above else None
