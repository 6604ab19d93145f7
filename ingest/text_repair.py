"""Repairs for two kinds of broken PDF text layers, applied only where a document shows them.

- Run-together words (e.g. Griffin: "MixingGatedLinearRecurrences"): split by word costs.
- Old DVI-converted PDFs (e.g. LSTM 1997): ligatures and punctuation come out as "/"
  ("su/er", "/(/1/9/9/7/)") and words are split at kerning pairs ("p erformance").
"""

from __future__ import annotations

import re

from ingest.words import Lexicon

_ALPHA_RUN = re.compile(r"[A-Za-z]+")
_LONG_TOKEN = 15
_SLASH_DENSITY = 0.01  # "/" per character above which a document is a broken DVI conversion
_RUN_TOGETHER_SHARE = 0.003  # share of long non-words above which words are run together
_LIGATURES = ("fi", "ff", "fl", "ffi", "ffl")
_REAL_SLASH = "\x00"


def is_slash_broken(text: str) -> bool:
    """Whether the text shows the "/"-for-ligature-and-punctuation defect."""
    return len(text) > 200 and text.count("/") / len(text) > _SLASH_DENSITY


def is_run_together(tokens: list[str], lexicon: Lexicon) -> bool:
    """Whether many tokens are long non-words (spaces missing between words)."""
    if len(tokens) < 50:
        return False
    long_unknown = sum(
        1
        for t in tokens
        for run in _ALPHA_RUN.findall(t)
        if len(run) >= _LONG_TOKEN and run.lower() not in lexicon.ranks
    )
    return long_unknown / len(tokens) > _RUN_TOGETHER_SHARE


def split_run_together(line: str, lexicon: Lexicon) -> str:
    """Splits letter runs that are not words into known words ("andthe" → "and the")."""

    def fix(match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) < 6 or run in lexicon:
            return run
        pieces = lexicon.segment(run)
        if len(pieces) > 1 and all(p in lexicon and lexicon.is_word(p) for p in pieces):
            return " ".join(pieces)
        return run

    return _ALPHA_RUN.sub(fix, line)


def repair_slashes(line: str, lexicon: Lexicon) -> str:
    """Turns DVI "/" artefacts back into ligatures, punctuation and digits."""
    line = line.replace("//", _REAL_SLASH)
    line = re.sub(r"/(?=[\d()\[\].,:;'!?#=+\-\"*%&])", "", line)
    line = re.sub(r"[A-Za-z]*/[A-Za-z]+|[A-Za-z]+/(?=[A-Za-z]|\s|$)", lambda m: _ligature(m, lexicon), line)
    return line.replace("/", "").replace(_REAL_SLASH, "/")


def _ligature(match: re.Match[str], lexicon: Lexicon) -> str:
    word = match.group(0)
    for lig in _LIGATURES:
        candidate = word.replace("/", lig)
        if candidate.lower() in lexicon:
            return candidate
    return word.replace("/", "fi")


def join_split_words(line: str, lexicon: Lexicon) -> str:
    """Joins words split at kerning pairs ("p erformance", "go o d") when the join is a word."""
    tokens = line.split(" ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for width in (3, 2):
            parts = tokens[i : i + width]
            if len(parts) == width and _should_join(parts, lexicon):
                tokens[i + width - 1] = "".join(parts)
                i += width - 1
                break
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def _should_join(parts: list[str], lexicon: Lexicon) -> bool:
    core = [p.rstrip(".,;:)'") if k == len(parts) - 1 else p for k, p in enumerate(parts)]
    if not all(c.isalpha() for c in core) or not core[-1]:
        return False
    joined = "".join(core)
    return joined.lower() in lexicon and not all(lexicon.is_word(c) for c in core)
