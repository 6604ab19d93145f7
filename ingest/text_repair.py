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
_OT1_LIGATURES = {"\x0b": "ff", "\x0c": "fi", "\x0d": "fl", "\x0e": "ffi", "\x0f": "ffl"}
_GREEK = dict(zip(map(chr, range(0x0B, 0x20)), "αβγδϵζηθικλμνξπρστυϕχ", strict=True)) | dict(
    zip(map(chr, range(0x00, 0x0B)), "ΓΔΘΛΞΠΣΥΦΨΩ", strict=True)
)
_UMLAUTS = dict(zip("AOUaou", "ÄÖÜäöü", strict=True))
_RARE = 15000  # words rarer than this rank are not trusted as pieces of a split
_VERY_COMMON = 2000
_OPENERS = frozenset(
    "we in our the this it its to for and however while here these that with "
    "when since both each such thus unlike there they all also first finally moreover note then "
    "if although because".split()
)
_SPACING = [
    (re.compile(r"(?<=[a-z]{2})([,;])(?=[A-Za-z]{2})"), r"\1 "),  # "fast,but" → "fast, but"
    (re.compile(r"\)(?=[A-Za-z]{2})"), ") "),  # "(RNNs)have" → "(RNNs) have"
    (re.compile(r"(?<=[a-z]{2})\((?=[A-Z])"), " ("),  # "research(Elman" → "research (Elman"
    (re.compile(r"(?<=\d)(?=[a-z]{3,})|(?<=\d[BMKT])(?=[a-z]{3,})"), " "),  # "6times", "7Bparams"
    (re.compile(r"(?<=[a-z]{4})(?=\d)"), " "),  # "over6" → "over 6"
]
_SHORT_WORDS = frozenset(
    "a an as at be by do go he if in is it me my no of on or so to up us we et al".split()
)


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


def split_run_together(text: str, lexicon: Lexicon) -> str:
    """Splits letter runs that are not words into known words ("andthe" → "and the").

    Missing spaces after punctuation and around numbers are restored first; CamelCase
    boundaries split next ("SohamDe" → "Soham De"); a capitalised piece is split only into
    common words ("Wepropose" → "We propose"), otherwise it is taken for a name; a split is
    kept only if every piece is a plausible word.
    """
    for pattern, replacement in _SPACING:
        text = pattern.sub(replacement, text)

    def fix(match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) < 6 or run in lexicon:
            return run
        return " ".join(_split_piece(p, lexicon) for p in _camel_pieces(run))

    return _ALPHA_RUN.sub(fix, text)


def _camel_pieces(run: str) -> list[str]:
    """ "MixingGatedLinear" → Mixing/Gated/Linear; "RNNwith" → RNN/with; "FLOPs" stays."""
    pieces = re.split(r"(?<=[a-z])(?=[A-Z])", run)
    out = []
    for piece in pieces:
        match = re.fullmatch(r"([A-Z]{2,})([a-z]{3,})", piece)
        out.extend(match.groups() if match else [piece])
    return out


def _split_piece(piece: str, lexicon: Lexicon) -> str:
    if len(piece) < 6 or piece in lexicon:
        return piece
    parts = lexicon.segment(piece)
    if len(parts) < 2 or not all(_plausible(p, lexicon) for p in parts):
        return piece
    if piece[0].isupper() and len(piece) <= 12 and not _sentence_start(parts, lexicon):
        return piece  # most likely a name ("Sontag", not "Son tag")
    return " ".join(parts)


def _sentence_start(parts: list[str], lexicon: Lexicon) -> bool:
    first = parts[0].lower()
    if first in _OPENERS or first in lexicon.doc_words:
        return True
    return all(lexicon.ranks.get(p.lower(), _RARE) < _VERY_COMMON for p in parts)


def _plausible(word: str, lexicon: Lexicon) -> bool:
    lower = word.lower()
    if len(lower) <= 2:
        return lower in _SHORT_WORDS
    return lower in lexicon.doc_words or lexicon.ranks.get(lower, _RARE) < _RARE


def decode_ot1(text: str) -> str:
    """Maps TeX OT1/OML glyph codes that pypdf leaves in old DVI conversions to characters.

    Codes 0x0B-0x0F next to a letter are the ff/fi/fl/ffi/ffl ligatures; elsewhere (formulas)
    control codes are Greek letters. Must run on the raw text, before control characters go.
    """
    for code, ligature in _OT1_LIGATURES.items():
        text = re.sub(rf"(?<=[A-Za-z])/?{code}|/?{code}(?=[A-Za-z])", ligature, text)
    text = re.sub(r"/?[\x00-\x1f](?<![\n\t])", lambda m: _GREEK.get(m.group(0)[-1], " "), text)
    text = re.sub(r"/?\x7f([AOUaou])", lambda m: _UMLAUTS[m.group(1)], text)
    text = text.replace("/BnZr", "\u2212").replace("/|", "\u2014").replace("/{", "\u2013")
    text = re.sub(r"(?<=\d)\{(?=\d)", "\u2013", text)  # "1735{1780" → "1735–1780"
    return re.sub(r"/?\\(?=\w)", "\u201c", text)  # \Long Short-Term Memory" → “Long ...


def repair_slashes(line: str, lexicon: Lexicon) -> str:
    """Turns the remaining DVI "/" artefacts back into punctuation, digits and ligatures."""
    line = line.replace("//", _REAL_SLASH)
    line = re.sub(r"/(?=[^A-Za-z])", "", line)
    line = re.sub(r"[A-Za-z]*/[A-Za-z]+", lambda m: _ligature(m, lexicon), line)
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
    return joined.lower() in lexicon and not all(_standalone(c, lexicon) for c in core)


def _standalone(piece: str, lexicon: Lexicon) -> bool:
    """Whether `piece` is likely a word of its own, not a fragment ("do" yes, "es" no)."""
    lower = piece.lower()
    if len(lower) <= 2:
        return lower in _SHORT_WORDS
    return lexicon.ranks.get(lower, _RARE) < (3000 if len(lower) <= 4 else _RARE)
