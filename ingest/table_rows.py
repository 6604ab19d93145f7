"""Table rows in pypdf's text: a label, then value cells ("GPT-3 356 14.26").

Cells are numbers (with units, exponents, ±, a size suffix), "-", check marks, "X", "NaN",
bracketed groups ("[3, 6]", "N (0, 0.1)") and ratios ("16 / 96"); bold and footnote marks are
dropped. Group lines name the block of rows below them: a size ("125M") or a model ("xLSTM[1:0]").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"[-+±~<>≈]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:±\d+(?:\.\d+)?)?[%kKMBT×x]?"
_CELL = re.compile(
    rf"^(?:{_NUMBER}|{_NUMBER} / {_NUMBER}|[-–—]|[✓✗✔✘×X]|NaN|N/A|n/a|\+?∞|\[.*\]|[A-Z] \(.*\))$"
)
SIZE = re.compile(r"^\d+(?:\.\d+)?[KMBT]$")
_MARKS = "*†‡§¶"
_NOT_LABEL = {"at", "in", "on", "of", "for", "to", "with", "by", "and", "or", "the", "vs", "vs."}


@dataclass(frozen=True)
class Row:
    """One table row: its label ("GPT-3"), its value cells, and the group it sits under."""

    label: str
    cells: tuple[str, ...]
    group: str = ""  # a size block ("125M") the row belongs to, else ""


def split_row(line: str) -> Row | None:
    """A row: label words, then one or more value cells ("GPT-3 356 14.26"); else None."""
    tokens = _merge_tokens(line.split())
    cells: list[str] = []
    while tokens and is_cell(tokens[-1]):
        cells.append(tokens.pop().rstrip(_MARKS))
    label = " ".join(tokens)
    if not cells or not any(ch.isalpha() for ch in label) or label.lower() in _NOT_LABEL:
        return None
    lower = sum(bool(re.fullmatch(r"[a-z]{3,}\W?", t)) for t in tokens)
    prose = lower > 4 or any(t.endswith(":") for t in tokens)
    ends = label.endswith((".", ",", ";", ":", "=")) and not label.endswith(("...", "…"))
    if ends or len(tokens) > 8 or prose:
        return None  # prose that happens to end in numbers
    return Row(label=label, cells=tuple(reversed(cells)))


def is_cell(token: str) -> bool:
    return bool(_CELL.match(token.rstrip(_MARKS)))


def _merge_tokens(tokens: list[str]) -> list[str]:
    """Joins cells that pypdf splits at spaces: "[3, 6]", "N (0, 0.1)", "16 / 96"."""
    merged: list[str] = []
    for token in tokens:
        slash = token == "/" or (merged and merged[-1].endswith(" /"))
        if merged and (_open_bracket(merged[-1]) or (slash and _numeric(merged[-1]))):
            merged[-1] = f"{merged[-1]} {token}"
        else:
            merged.append(token)
    out: list[str] = []
    for token in merged:
        paren = token.startswith("(") and token.endswith(")")
        if out and paren and re.fullmatch(r"[A-Z]", out[-1]):
            out[-1] = f"{out[-1]} {token}"
        else:
            out.append(token)
    return out


def _open_bracket(text: str) -> bool:
    return text.count("[") > text.count("]") or text.count("(") > text.count(")")


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(rf"{_NUMBER}(?: /(?: {_NUMBER})?)?", text))


def is_group(line: str) -> bool:
    """A line naming the block of rows below it: a size ("125M") or a model ("xLSTM[1:0]")."""
    tokens = line.split()
    if len(tokens) != 1:
        return False
    token = tokens[0]
    model_like = any(ch.isdigit() or ch in "[]" for ch in token) or (
        token.isupper() and len(token) >= 3
    )
    return bool(SIZE.match(token)) or (model_like and not is_cell(token))


def shift_label(row: Row, cells: int) -> Row:
    """Leading extra cells that are sizes belong to the label ("Llama 1.3B 1420 9.44")."""
    extra = len(row.cells) - cells
    if extra <= 0 or not all(SIZE.match(c) for c in row.cells[:extra]):
        return row
    label = " ".join([row.label, *row.cells[:extra]])
    return Row(label=label, cells=row.cells[extra:], group=row.group)


_GLUED = re.compile(r"^(?P<label>.*[A-Za-z_)\]])(?P<value>\d+\.\d+)$")


def unglue(row: Row, cells: int) -> Row:
    """A row one cell short whose label ends in a decimal glued to it ("…_medicine9.14", where
    pypdf lost the space after a long label): the decimal is the row's first cell."""
    match = _GLUED.match(row.label)
    if len(row.cells) != cells - 1 or not match:
        return row
    cells_ = (match.group("value"), *row.cells)
    return Row(label=match.group("label"), cells=cells_, group=row.group)
