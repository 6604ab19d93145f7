"""Cleaning extracted PDF text for retrieval: normalise, drop page furniture, repair, unwrap.

Works on one document at a time (a list of raw page texts) because running headers and footers
are only recognisable across pages, and hyphenation and word repairs use the document's words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from ingest.arxiv import STAMP

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_DIGITS = re.compile(r"\d+")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
_EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers


def normalize(text: str) -> str:
    """NFKC (ligatures ﬁ→fi, math letters), no control or invisible characters, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def remove_stamp(text: str) -> tuple[str, str | None]:
    """Removes the arXiv margin stamp; returns the text and the stamped arXiv id (or None)."""
    match = STAMP.search(text)
    if not match:
        return text, None
    return STAMP.sub(" ", text), match.group("id")


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", line.lower())


def repeated_edge_lines(pages: list[list[str]]) -> set[str]:
    """Keys of lines that sit at the top or bottom of many pages (running headers/footers)."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edges = {_edge_key(ln) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:] if ln}
        counts.update(edges)
    threshold = max(3, int(0.3 * len(pages)))
    return {key for key, n in counts.items() if n >= threshold and key.strip("# ")}


def drop_page_furniture(lines: list[str], repeated: set[str]) -> list[str]:
    """Drops running headers/footers and page numbers from the edges of one page."""
    lines = [ln for ln in lines if ln]
    start, end = 0, len(lines)
    while start < min(end, _EDGE_LINES) and _is_furniture(lines[start], repeated):
        start += 1
    while end > max(start, len(lines) - _EDGE_LINES) and _is_furniture(lines[end - 1], repeated):
        end -= 1
    return lines[start:end]


def _is_furniture(line: str, repeated: set[str]) -> bool:
    return bool(_PAGE_NUMBER.match(line)) or _edge_key(line) in repeated


def document_words(pages: list[list[str]]) -> Counter[str]:
    """Lower-case words that occur inside lines (not split at a line end) in the document."""
    counts: Counter[str] = Counter()
    for lines in pages:
        for line in lines:
            words = line.split()
            counts.update(w.lower() for w in _WORDS.findall(" ".join(words[:-1])))
    return counts


_BULLET = re.compile(r"^(?:[•◦▪‣∙·*–-]\s|\(?[ivx]{1,4}\)\s|\(?[a-h1-9]\)\s|\d{1,2}\.\s)")
_CAPTION = re.compile(
    r"^(?:Figure|Fig\.|Table|Algorithm|Listing)\s+[A-Z]?\d+(?P<mark>[.:|])?", re.IGNORECASE
)
_NUMBERISH = re.compile(r"^[-+±~<>≈]?[\d.,:%×x]+$|^[✓✗]$")
_HYPHEN_END = re.compile(r"(?<!\S)(\S*[A-Za-z])-$")
_WORD_START = re.compile(r"^([a-z]+)")
_SENTENCE_END = (".", "?", "!", ":")


def is_table_row(line: str) -> bool:
    """Mostly numbers (or check marks): a table row or a plot axis, kept on its own line."""
    tokens = line.split()
    numeric = sum(bool(_NUMBERISH.match(t.strip("()[],;"))) for t in tokens)
    return len(tokens) >= 2 and numeric >= max(2, 0.4 * len(tokens))


def join_hyphenated(left: str, right: str, words: Counter[str]) -> str | None:
    """`left` + `right` when `left` ends with a line-end hyphenation, else None.

    "build-" + "ing" → "building"; a real compound ("multi-" + "layer" where the document
    writes "multi-layer" elsewhere) keeps its hyphen, so do names and numbers ("xLSTM-" +
    "based", "7B-" + "scale"); "xLSTM-" + "7B" (not a lower-case continuation) is not joined.
    """
    end = _HYPHEN_END.search(left[-64:])
    start = _WORD_START.match(right)
    if not end or not start:
        return None
    fragment = end.group(1).lstrip("([{\"'“‘")
    if any(ch.isdigit() for ch in fragment) or any(ch.isupper() for ch in fragment[1:]):
        return f"{left}{right}"
    first, second = fragment.lower(), start.group(1)
    hyphenated = words[f"{first}-{second}"]
    closed = words[first + second]
    if hyphenated > closed:
        return f"{left}{right}"
    return f"{left[:-1]}{right}"


def unwrap(lines: list[str], headings: set[int], words: Counter[str]) -> list[tuple[str, bool]]:
    """Joins wrapped lines into blocks; returns (block, is_heading) in order.

    Paragraph breaks: around headings, before captions and list items, after a short line that
    ends a sentence. Table rows stay on their own lines within a block.
    """
    long_lines = sorted(len(ln) for ln in lines if len(ln) > 30)
    full = long_lines[int(0.8 * (len(long_lines) - 1))] if long_lines else 80
    blocks: list[tuple[str, bool]] = []
    current, prev = "", ""
    for i, line in enumerate(lines):
        if i in headings:
            blocks.extend([(current, False)] if current else [])
            blocks.append((line, True))
            current = prev = ""
            continue
        if not current:
            current = line
        elif _starts_block(line, prev) or (prev.endswith(_SENTENCE_END) and len(prev) < 0.8 * full):
            blocks.append((current, False))
            current = line
        elif is_table_row(line) or is_table_row(prev):
            current = f"{current}\n{line}"
        else:
            current = join_hyphenated(current, line, words) or f"{current} {line}"
        prev = line
    if current:
        blocks.append((current, False))
    return blocks


def _starts_block(line: str, prev: str) -> bool:
    """A list item, or a caption: "Figure 3: ..." always, "Figure 3 Overview ..." only after
    a finished sentence; "(see" + "Figure 3 and 10) with ..." goes on the sentence."""
    caption = _CAPTION.match(line)
    if caption and not caption.group("mark"):
        caption = caption if prev.endswith(_SENTENCE_END) else None
    return bool(_BULLET.match(line) or caption)
