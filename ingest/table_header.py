"""Splitting a table's header line into column names, only where the split is certain.

"Model #Params M SlimPajama (15B) ppl ↓" has to become ("Model", "#Params M",
"SlimPajama (15B) ppl ↓") for rows with two value cells. Words are first grouped into *units*
(a word plus what cannot stand alone: "(15B)", "ppl", "↓", a lone capital "M", a number); hard
boundaries fall after an arrow and around "#…" names. A stretch between hard boundaries is split
into columns only when that is unambiguous: one unit per column, or two units per column
("Exponential Gating | Matrix Memory"). Otherwise `split_header` returns None and the rows keep
their values in order, with the header quoted, rather than a guessed column name.
"""

from __future__ import annotations

import re

_LABEL_NAME = re.compile(
    r"^(?:models?|methods?|tasks?|datasets?|data|systems?|names?|arch(?:itecture|\.)?|settings?|"
    r"variants?|config(?:uration)?s?|benchmarks?|domains?|languages?|approach(?:es)?|baselines?|"
    r"types?|size)\b",
    re.IGNORECASE,
)
_MAX_LABEL_UNITS = 2  # "Model Modification"; longer label names are guesses
_ARROWS = ("↓", "↑", "→", "←")
_UNIT_WORD = re.compile(r"^[a-z]+$")  # ppl, acc, at
_NUMBERISH = re.compile(r"^\d+(?:\.\d+)?[kKMB]?$")  # "103" in "Wikitext 103", "16k"


def split_header(header: str, cells: int, one_line: bool = True) -> tuple[str, ...] | None:
    """(label column name, one name per value cell), or None when not certain.

    The label column name is "" when the header names only the value columns. A header stacked
    over several lines (`one_line` False) is split one unit per column only, never in pairs:
    pypdf may interleave its lines.
    """
    words = header.split()
    if any(ch in _ARROWS for w in words for ch in w.rstrip("".join(_ARROWS))):
        return None  # an arrow glued to the next word: lines run together
    if any(w.endswith(",") for w in words):
        return None  # a list or a date ("(Dec 10th, 2018)"), not one name per column
    units = _units(words)
    if cells < 1 or not units:
        return None
    if cells == 1:  # one value column: the first unit names the labels, the rest the values
        if len(units) == 1:
            return ("", units[0][0])
        if not _LABEL_NAME.match(units[0][0]):
            return None
        return (units[0][0], " ".join(u for u, _ in units[1:]))
    segments = _segments(units)
    if sum(len(s) for s in segments) == cells:
        if _LABEL_NAME.match(segments[0][0]):
            return None  # "Model" names the labels, so one value column has no name
        return ("", *[u for s in segments for u in s])
    if not _LABEL_NAME.match(segments[0][0]):
        return None  # the label column's name is a guess unless it is a usual one
    for label_units in range(1, min(_MAX_LABEL_UNITS, len(segments[0])) + 1):
        first = segments[0][label_units:]
        rest = ([first] if first else []) + segments[1:]
        columns = _split_segments(rest, cells, pairs=one_line)
        if columns is not None:
            return (" ".join(segments[0][:label_units]), *columns)
    return None


def _units(words: list[str]) -> list[tuple[str, bool]]:
    """Units as (text, hard boundary after it)."""
    units: list[list] = []
    for word in words:
        attach = bool(units) and not units[-1][1] and _attaches(word, units[-1][0])
        if attach:
            units[-1][0] = f"{units[-1][0]} {word}"
        else:
            if word.startswith("#") and units:
                units[-1][1] = True
            units.append([word, False])
        if word.endswith(_ARROWS) or word.startswith("#"):
            units[-1][1] = word.endswith(_ARROWS) or units[-1][1]
    for unit in units:  # "#Params M" ends at its last word
        if unit[0].startswith("#"):
            unit[1] = True
    return [(text, hard) for text, hard in units]


def _attaches(word: str, previous: str) -> bool:
    """Whether `word` continues the unit `previous` rather than starting a column."""
    if word in _ARROWS or word.startswith("(") or _UNIT_WORD.match(word):
        return True
    if re.fullmatch(r"[A-Z]", word):  # "#Params M"
        return True
    return bool(_NUMBERISH.match(word)) and not previous.startswith("#")


def _segments(units: list[tuple[str, bool]]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for text, hard in units:
        segments[-1].append(text)
        if hard:
            segments.append([])
    return [s for s in segments if s]


def _split_segments(segments: list[list[str]], cells: int, pairs: bool) -> list[str] | None:
    """Column names from `segments` when exactly one split into `cells` names is certain."""
    sizes = [len(s) for s in segments]
    if sum(sizes) == cells:
        return [u for s in segments for u in s]
    # Hard segments of one unit are one column each; the rest split in pairs, if that fits.
    if not pairs:
        return None
    fixed = sum(1 for n in sizes if n == 1)
    paired = [n for n in sizes if n > 1]
    if all(n % 2 == 0 for n in paired) and fixed + sum(n // 2 for n in paired) == cells:
        columns: list[str] = []
        for segment in segments:
            if len(segment) == 1:
                columns.extend(segment)
            else:
                columns.extend(" ".join(segment[i : i + 2]) for i in range(0, len(segment), 2))
        return columns
    return None
