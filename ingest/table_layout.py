"""Column names from where a table's words sit on the page, for headers pypdf cannot split.

pypdf keeps a table's rows in order but runs a stacked header into one line of words: "Model
#Params M Twitter AAE Manosphere 4CHAN GAB" over five value columns, or Table 2's gating
ablation, whose "Forget Gate" and "Input Gate" each span three columns ("Input Dependent",
"Learnable Bias", "Bias Init"). `split_header` then leaves the columns unnamed
(`Table.columns` None). pdfminer.six gives every word's box. `align_columns` finds each row's
line on the page, takes each value cell's x-centre, and gives every header word to the value
column it sits over. A phrase that spans several columns standing above all of their own
header words is a group label and names each of them ("Forget Gate Learnable Bias").

Only the pages of such tables are read. A table whose rows cannot be found on the page, or
whose header leaves a column unnamed or two columns with one name, keeps its unaligned rows.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.tables import Table

logger = logging.getLogger(__name__)

_LINE_TOLERANCE = 2.5  # points: a row's check marks sit ~2 pt above its label
_PHRASE_GAP = 4.0  # points between the words of one header phrase (word spacing is ~2-3)
_GROUP_REACH = 1.5  # a group label reaches this many of its widths from its centre
_MAX_HEADER_LINES = 8
_MAX_LABEL_WORDS = 3  # "Learnable Gates", "Model"; more is header text run into the label
_MAX_NAME_WORDS = 8
_DECIMAL = re.compile(r"\d\.\d")
_MARKS = "*†‡§¶"


@dataclass(frozen=True)
class Word:
    """A word's text and box (points; `top` grows down the page)."""

    text: str
    x0: float
    x1: float
    top: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


def align_tables(path: str | Path, tables: Sequence[Table]) -> list[Table]:
    """`tables` with column names found from the page layout where pypdf's header split
    failed; unchanged when pdfminer.six is missing or cannot read the file."""
    pages = sorted({t.page for t in tables if t.columns is None and t.header})
    if not pages:
        return list(tables)
    try:
        words = page_words(path, pages)
    except Exception as e:  # a layout failure must not cost the paper its text or tables
        logger.warning("%s: table columns not read from the layout (%s)", Path(path).name, e)
        return list(tables)
    out = []
    for table in tables:
        aligned = None
        if table.columns is None and table.header and table.page in words:
            aligned = align_columns(table, words[table.page])
        out.append(aligned or table)
    return out


def page_words(path: str | Path, pages: Sequence[int]) -> dict[int, list[Word]]:
    """The words of the given 1-based pages, with their boxes."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTChar, LTContainer, LTTextLine

    def words(item, height: float) -> Iterator[Word]:
        if isinstance(item, LTTextLine):
            chars: list = []
            for ch in [*item, None]:
                if isinstance(ch, LTChar) and not ch.get_text().isspace():
                    chars.append(ch)
                elif chars:
                    text = "".join(c.get_text() for c in chars)
                    yield Word(text, chars[0].x0, chars[-1].x1, height - max(c.y1 for c in chars))
                    chars = []
        elif isinstance(item, LTContainer):
            for child in item:
                yield from words(child, height)

    numbers = sorted(set(pages))
    layouts = extract_pages(str(path), page_numbers=[n - 1 for n in numbers], laparams=LAParams())
    return {
        n: list(words(layout, layout.height)) for n, layout in zip(numbers, layouts, strict=False)
    }


def align_columns(table: Table, words: Sequence[Word]) -> Table | None:
    """`table` with `columns` named from the layout of its page's `words`, or None."""
    lines = _lines(words)
    matched = _match_rows(table, lines)
    if len(matched) < max(2, 0.8 * len(table.rows)) or matched[0][0] != 0:
        return None  # the header must sit right above the first row
    cells = statistics.mode(len(s) for _, _, s in matched)
    spans = [s for _, _, s in matched if len(s) == cells]
    centres = [
        statistics.median((a + b) / 2 for a, b in (s[k] for s in spans)) for k in range(cells)
    ]
    left = min(lines[i][0].x0 for _, i, _ in matched)
    right = max(s[-1][1] for s in spans)
    boundary = min(s[0][0] for s in spans)  # where the first value column starts
    header = [
        w
        for w in _header_words(lines, matched[0][1], table.header)
        if left - 5 <= w.centre <= right + 5
    ]
    label = [w for w in header if w.centre < boundary]
    names = _column_names([w for w in header if w.centre >= boundary], centres)
    if names is None:
        return None
    label_name = " ".join(w.text for w in sorted(label, key=lambda w: (round(w.top), w.x0)))
    if not _plausible([label_name, *names], len(label)):
        return None
    return replace(table, columns=(label_name, *names))


def _plausible(names: list[str], label_words: int) -> bool:
    """Column names, not rows or prose swept into the header: a short label column name, short
    value column names with letters in them, none that reads as a value ("0.98)", "25.6∗")."""
    if label_words > _MAX_LABEL_WORDS or names[0].startswith(("↓", "↑")):
        return False
    if any(ch in name for name in names for ch in "=;|"):
        return False  # the row format's own separators
    for name in names[1:]:
        words = name.split()
        if len(words) > _MAX_NAME_WORDS or not any(ch.isalpha() for ch in name):
            return False
        if any(_DECIMAL.search(w) for w in words):
            return False  # "Wikitext 103" and "(15B)" are names; "25.6∗" or "0.98)" a value
    return True


def _lines(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into lines by their top, each line left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.top):
        if lines and word.top - lines[-1][0].top <= _LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _key(text: str) -> str:
    return "".join(text.split()).rstrip(_MARKS)


def _match_rows(table: Table, lines: list[list[Word]]) -> list[tuple[int, int, list]]:
    """(row index, line index, the row's cell spans) for the rows found, in page order."""
    matched, start = [], 0
    for r, row in enumerate(table.rows):
        for i in range(start, len(lines)):
            spans = _cell_spans(lines[i], row.cells)
            if spans is not None:
                matched.append((r, i, spans))
                start = i + 1
                break
    return matched


def _cell_spans(line: list[Word], cells: Sequence[str]) -> list[tuple[float, float]] | None:
    """(x0, x1) of each cell when `line` ends with the row's cells, else None."""
    words, spans = list(line), []
    for cell in reversed(cells):
        target, got, x0, x1 = _key(cell), "", 0.0, None
        while words and len(got) < len(target):
            word = words.pop()
            got, x0 = _key(word.text) + got, word.x0
            x1 = word.x1 if x1 is None else x1
        if got != target or x1 is None:
            return None
        spans.append((x0, x1))
    return spans[::-1] if words else None  # a row has a label before its cells


def _header_words(lines: list[list[Word]], first_row: int, header: str) -> list[Word]:
    """The words of the lines right above the first row that all belong to `header`."""
    tokens = [_key(t) for t in header.split()]
    out: list[Word] = []
    for line in reversed(lines[max(0, first_row - _MAX_HEADER_LINES) : first_row]):
        if not all(any(_key(w.text) and _key(w.text) in t for t in tokens) for w in line):
            break
        out.extend(line)
    return out


def _column_names(words: list[Word], centres: list[float]) -> list[str] | None:
    """One name per value column (see module doc), or None when one is missing or repeated."""
    phrases = _phrases(words)
    nearest = [min(range(len(centres)), key=lambda c: abs(centres[c] - p.centre)) for p in phrases]
    own: list[list[Word]] = [[] for _ in centres]
    for phrase, column in zip(phrases, nearest, strict=True):
        own[column].append(phrase)
    names: list[list[Word]] = [list(o) for o in own]
    for phrase, column in zip(phrases, nearest, strict=True):
        for c in _spanned(phrase, column, centres, own, phrases):
            if c != column:
                names[c].append(phrase)
    texts = [" ".join(p.text for p in sorted(n, key=lambda p: (p.top, p.x0))) for n in names]
    if not all(texts) or len({t.lower() for t in texts}) < len(texts):
        return None
    return texts


def _spanned(
    phrase: Word, column: int, centres: list[float], own: list[list[Word]], phrases: list[Word]
) -> range:
    """The columns a header phrase names: its nearest, and as a group label the neighbours it
    stands above (all their own header words lie below it), within its reach, centred on it."""
    same_line = [
        abs(q.centre - phrase.centre) / 2
        for q in phrases
        if q is not phrase and abs(q.top - phrase.top) <= 1
    ]
    reach = min([_GROUP_REACH * (phrase.x1 - phrase.x0), *same_line])

    def spans(c: int) -> bool:
        below = bool(own[c]) and all(q.top > phrase.top + 1 for q in own[c])
        return abs(centres[c] - phrase.centre) <= reach and below

    lo, hi = column, column
    while lo > 0 and spans(lo - 1):
        lo -= 1
    while hi < len(centres) - 1 and spans(hi + 1):
        hi += 1
    while hi > lo:  # a group label sits over the middle of its columns
        width = centres[hi] - centres[lo]
        if abs(statistics.mean(centres[lo : hi + 1]) - phrase.centre) <= 0.25 * width:
            break
        if phrase.centre - centres[lo] > centres[hi] - phrase.centre:
            lo += 1
        else:
            hi -= 1
    return range(lo, hi + 1)


def _phrases(words: list[Word]) -> list[Word]:
    """Words on one line with word spacing between them, joined into one box."""
    phrases: list[Word] = []
    for word in sorted(words, key=lambda w: (round(w.top), w.x0)):
        last = phrases[-1] if phrases else None
        if last and abs(last.top - word.top) <= 1 and 0 <= word.x0 - last.x1 <= _PHRASE_GAP:
            phrases[-1] = Word(f"{last.text} {word.text}", last.x0, word.x1, last.top)
        else:
            phrases.append(word)
    return phrases
