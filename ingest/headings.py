"""Section headings: recognise lines like "2.2 sLSTM", "4 Experiments", "A.1 ...", "References".

Numbered headings are accepted only in a plausible order (no going back, no big jumps), which
rejects table rows, equation lines and affiliations that merely look like headings.
"""

from __future__ import annotations

import re

_NUMBERED = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3}|[A-H](?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Za-z].{1,90})$"
)
_ROMAN = re.compile(r"^(?P<num>[IVX]{1,5})\.\s+(?P<title>[A-Z][A-Z0-9 ,:&'-]{2,60})$")
_NAMED = re.compile(
    r"^(?:abstract|introduction|related work|background|conclusions?|discussion|references|"
    r"bibliography|acknowledge?ments?|appendix|appendices|limitations|broader impacts?)$",
    re.IGNORECASE,
)
_BAD_TITLE = re.compile(r"[=<>{}|\\^_]|\.\s*\.|\d\s*$|[.,;]$")


class HeadingTracker:
    """Follows a document's section structure page by page."""

    def __init__(self) -> None:
        self.current: str | None = None
        self._last_key: tuple[int, ...] | None = None

    def accept(self, line: str) -> str | None:
        """The heading text when `line` is the next section heading, else None."""
        if len(line) > 100:
            return None
        if _NAMED.match(line):
            self.current = line
            return line
        match = _NUMBERED.match(line) or _ROMAN.match(line)
        if not match or not _good_title(match.group("title")):
            return None
        key = _key(match.group("num"), roman=match.re is _ROMAN)
        if not _follows(self._last_key, key):
            return None
        self._last_key = key
        self.current = line
        return line


def _good_title(title: str) -> bool:
    words = title.split()
    letters = sum(c.isalpha() for c in title)
    return (
        len(words) <= 14
        and not _BAD_TITLE.search(title)
        and letters >= 0.6 * len(title.replace(" ", ""))
        and title.count(",") < 2
        and any(len(w) > 1 and w[0].isalpha() for w in words)
    )


def _key(num: str, roman: bool) -> tuple[int, ...]:
    """Sortable key: (0, 2, 3) for "2.3", (1, 1, 2) for "A.2", (2, 4) for "IV"."""
    if roman:
        return (2, _roman_value(num))
    parts = num.split(".")
    if parts[0].isdigit():
        return (0, *map(int, parts))
    return (1, ord(parts[0]) - ord("A") + 1, *map(int, parts[1:]))


def _roman_value(text: str) -> int:
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for i, ch in enumerate(text):
        v = values[ch]
        total += -v if i + 1 < len(text) and values[text[i + 1]] > v else v
    return total


def _follows(prev: tuple[int, ...] | None, cur: tuple[int, ...]) -> bool:
    """Whether heading `cur` can come after `prev` in a paper."""
    if prev is None:
        return cur[1] <= 2 if cur[0] != 1 else cur[1] == 1
    if cur[0] != prev[0]:
        # Numbered body → lettered appendix (A or B); nothing else switches schemes.
        return prev[0] == 0 and cur[0] == 1 and cur[1] <= 2
    if cur <= prev:
        return False
    for depth, (a, b) in enumerate(zip(prev[1:], cur[1:], strict=False)):
        if a != b:
            return b - a <= 2 and all(part <= 3 for part in cur[depth + 2 :])
    return len(cur) == len(prev) + 1 and cur[-1] <= 2  # first subsection
