"""The one sentence splitter, tuned for scientific text (abbreviations, decimals, equation refs).

Used by retrieval (sentence-level compression), evidence selection and the answer metrics.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter, digit, bracket, quote or a
# name like "xLSTM", unless the period ends a common abbreviation ("e.g.", "Fig.", "et al.").
_ABBREVIATIONS = (
    "e.g",
    "i.e",
    "etc",
    "et al",
    "Fig",
    "Figs",
    "Eq",
    "Eqs",
    "Sec",
    "Tab",
    "cf",
    "vs",
    "resp",
    "approx",
    "No",
    "Ref",
    "Refs",
    "App",
    "Ch",
    "Dr",
    "Mr",
    "Ms",
    "St",
    "al",
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?(?:[A-Z0-9•\-]|[a-z][A-Z]))")
_ABBREV_ALT = "|".join(re.escape(a) for a in _ABBREVIATIONS)
_ABBREV_END = re.compile(r"(?:\b(?:" + _ABBREV_ALT + r")|\b[A-Z])\.$")
# a blank line (a paragraph, heading or list-item break the page text keeps) or a bullet starts a
# new unit: "... the sorted string. |V | = 11 srand = 1\n\n• Cycle Nav Given ..." is three
_BLOCK = re.compile(r"\n\s*\n|\s+(?=•\s)")
_ITEM = re.compile(r"•\s*\w\w")
MIN_SENTENCE_CHARS = 15
MAX_SENTENCE_CHARS = 600


def split_sentences(text: str, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """Split `text` into sentences; very long runs (tables) are cut at MAX_SENTENCE_CHARS.

    A blank line or a bullet ("•") always ends a sentence: page text keeps them at headings,
    list items and paragraph ends, where no full stop may stand.

    Args:
        text: any text; within a paragraph, runs of white space count as one space.
        min_chars: sentences shorter than this are dropped (1 keeps every non-empty piece).

    Returns:
        The sentences in order, each stripped, none empty.
    """
    pieces = [s for block in _BLOCK.split(text) for s in _paragraph_sentences(block)]
    out: list[str] = []
    for piece in pieces:
        out.extend(_cut_long(piece))
    # a list item is kept however short ("• no dropout"); other short pieces are debris
    return [s for s in out if s and (len(s) >= min_chars or _ITEM.match(s))]


def _paragraph_sentences(block: str) -> list[str]:
    """The sentences of one paragraph: split at sentence ends, never after an abbreviation."""
    pieces: list[str] = []
    buffer = ""
    for part in _BOUNDARY.split(" ".join(block.split())):
        buffer = f"{buffer} {part}".strip() if buffer else part
        if not _ABBREV_END.search(buffer):
            pieces.append(buffer)
            buffer = ""
    if buffer:
        pieces.append(buffer)
    return pieces


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    words, chunks, current = sentence.split(), [], ""
    for word in words:
        if current and len(current) + len(word) + 1 > MAX_SENTENCE_CHARS:
            chunks.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return chunks + ([current] if current else [])
