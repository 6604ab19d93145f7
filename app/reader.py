"""The reader: scores evidence units for whether they *answer* the question, not just match it.

A unit is a sentence, a table row or a short window of adjacent sentences (`app.evidence`). The
reader's signals, each in a fixed range so they can be measured alone and together:
- answer-type fit: a "how many / which perplexity" question wants a number or a table value, a
  "which dataset / model" question a name, a "why" question a reason, a "what are" question a list;
- novelty: what the unit says beyond the question's own words (an echo of the question, a
  question the paper asks itself, or an announcement of what a section will do scores low);
- role: captions, equations, references and headings are not answers unless asked for;
- neighbours (`hand_off`): a unit that only points ("as shown in Table 2", "... as follows:")
  hands its score to what it points to: the table's rows, or the sentence after it.

The scorer is one seam, `Reader`: `(question, units) -> scores`. `heuristic_reader` fills it
today; `upr_reader` puts the xLSTM's UPR re-ranking through the same seam, and a trained xLSTM
reader can replace either without touching the answer path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.words import STOP_WORDS
from retrievers.hybrid import bm25_tokens

ROLES = ("text", "table", "table_row", "caption", "equation", "reference", "heading", "window")
NON_ANSWER_ROLES = ("caption", "equation", "reference", "heading")
ANSWER_TYPES = ("number", "name", "reason", "list", "other")


class Unit(Protocol):
    """What the reader sees of a candidate (`app.evidence.Candidate` is one)."""

    text: str
    kind: str
    metadata: dict


class Reader(Protocol):
    """The seam: scores of `units` for answering `question`, one per unit, higher is better."""

    def __call__(self, question: str, units: Sequence[Unit]) -> Sequence[float]: ...


# "what is the average PALOMA perplexity", not "which tasks is accuracy normalized for"
_QUANTITY = re.compile(
    r"\b(how (many|much|long|far|large|big|fast|slow|\w+er)\b|(what|which)\s+"
    r"((is|are|was|were) the\s+)?(?:(?!(?:is|are|was|were|does|do|did|has|have)\b)\S+[\s-]+){0,3}?"
    r"(value|number|perplexit(y|ies)|accurac(y|ies)|ppl|score|throughput|speed|size|dimensions?|"
    r"length|rate|positions?|percentage|ratio|count|threshold|fraction)\b)",
    re.IGNORECASE,
)
_MEASURE_Q = re.compile(r"\b(perplexit(y|ies)|accurac(y|ies)|ppl|score|throughput)\b", re.I)
LEAD = r"^\s*(?:[^,?]{0,160},\s*)?"  # an opening clause: "In the 15B comparison, what ..."
_REASON_Q = re.compile(rf"{LEAD}(why|for what reason|what is the reason|how come)\b", re.I)
_PREP = r"(?:(?:on|in|to|with|at|by|for|from|over|of|after|within)\s+)?"  # "To what", "For how"
_NAME_Q = re.compile(rf"{LEAD}{_PREP}(which|what|who)\b", re.I)
_LIST_Q = re.compile(
    r"\b(what are|which are|which \w+s\b|list|name (the|all)|enumerate|limitations|components|"
    r"advantages|improvements|differences|steps)\b",
    re.IGNORECASE,
)


def answer_type(question: str) -> str:
    """ "number", "reason", "list", "name" or "other": what kind of text would answer."""
    if _REASON_Q.search(question):
        return "reason"
    if (
        _QUANTITY.search(question)
        and _NAME_Q.search(question)
        or re.match(
            rf"{LEAD}{_PREP}(how (many|much|long|far|large|fast|slow)|at which|up to)",
            question,
            re.I,
        )
        or re.match(rf"{LEAD}how (bad|good|high|low|close)\b", question, re.I)
        and _MEASURE_Q.search(question)  # "how bad is the perplexity of ..."
    ):
        return "number"
    if _LIST_Q.search(question) and not re.search(r"\bwhich \w+ (is|does)\b", question, re.I):
        return "list"
    if _NAME_Q.search(question):
        return "name"
    return "other"


_CAPTION = re.compile(r"^(Table|Figure|Fig\.)\s*\d+\s*[:.|]", re.IGNORECASE)
_REFERENCE = re.compile(
    r"(^[A-Z][A-Za-z'\-]+,\s+[A-Z]\.(\s?[A-Z]\.)*,)|(\b(19|20)\d{2}[a-z]?\.\s.*\b(In |Proceedings|"
    r"arXiv|Conference|Journal|URL|https?://))",
)
_EQUATION_NUMBER = re.compile(r"\(\d{1,3}\)")
_MATH = re.compile(r"[=⊙∑σ∈→−+^_·×/\\⊤ϕφ∗]|^[a-zA-Z]\d?$|^[\d.]+$|^[()\[\],]+$")
_HEADING = re.compile(r"^(\d+(\.\d+)*|[A-Z](\.\d+)+)\s+[A-Za-z]")
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d+)*|[A-Z](\.\d+)+)\s+[A-Z]")  # "B.1.3 Test", "4 Experiments"


def unit_role(text: str, metadata: dict | None = None) -> str:
    """The unit's role: metadata `kind` when ingest marked it, else inferred from the text."""
    kind = (metadata or {}).get("kind")
    if kind in ROLES:
        return str(kind)
    words = text.split()
    if _CAPTION.match(text):
        return "caption"
    if str((metadata or {}).get("section") or "").strip().lower() in ("references", "bibliography"):
        return "reference"
    if _REFERENCE.search(text):
        return "reference"
    is_math = [bool(_MATH.search(w)) or len(w) <= 2 for w in words]
    mathy = sum(is_math) / max(len(words), 1)
    prose_lead = len(words) > 8 and sum(is_math[:8]) <= 3  # "Therefore, we stabilize ...: m = ..."
    equation = mathy > 0.55 or (_EQUATION_NUMBER.search(text) and mathy > 0.35)
    if len(words) >= 6 and equation and not prose_lead:
        return "equation"
    if len(words) <= 8 and (_HEADING.match(text) or _title_case(words)):
        return "heading"
    # a heading on a line of its own, unpunctuated: "C Detailed Results on PALOMA Language Model
    # Evaluation", "B.1.3 Test of xLSTM's Long Range Capabilities on the Long Range Arena"
    titled = len(words) <= 10 and _title_case(words, most=8)
    if text.rstrip()[-1:].isalnum() and (titled or len(words) <= 14 and _NUMBERED.match(text)):
        return "heading"
    # ... or run in, with a full stop: "B.1.3 Test of xLSTM's Long Range Capabilities on the
    # Long Range Arena.", "Why Multi-Query Associative Recall for Memory Tests of LLM
    # Architectures.", "Proof of Equivalence for sLSTM Stabilized Version."
    numbered = len(words) <= 14 and _NUMBERED.match(text) and _title_case(words, most=10)
    if text.rstrip().endswith(".") and "," not in text and (titled or numbered):
        return "heading"
    return "text"


def _title_case(words: list[str], most: int = 5) -> bool:
    content = [w for w in words if w.lower() not in STOP_WORDS]
    return 0 < len(content) <= most and all(_capitalised(w) for w in content)


def _capitalised(word: str) -> bool:
    """ "Version", "sLSTM", "xLSTM's", "(15B)": a word a title writes as it is."""
    return word[:1].isupper() or not word[:1].isalpha() or any(ch.isupper() for ch in word)


_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?[%×xKMB]\b|\s?%)?")
# a citation year: "(Merity et al., 2017)", "et al. 2023", "(2017)", "2023a;" -- not "length 2048"
_YEAR_CITE = re.compile(
    r"(?:(?<=al\.,\s)|(?<=al\.\s)|(?<=\())(?:19|20)\d{2}[a-z]?\)?"
    r"|\b(?:19|20)\d{2}[a-z]?(?:\)|;|(?<=[a-z])\b)"
)
_WORD_NUMBER = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I
)
_REASON = re.compile(
    r"\b(because|since|due to|so that|therefore|thus|hence|as a result|in order to|allows?|"
    r"enables?|leads? to|owing to|the reason|which (makes|means|enforces?)|motivated by|"
    r"to (?:mitigate|avoid|prevent)|for this reason|this is why)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b([A-Z][\w\-]*[A-Z0-9][\w\-]*|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_ENUMERATION = re.compile(r"(\(i+\)|\(\d\)|,.+,.+\band\b|;|^\s*[-•])")


def enumerates(text: str) -> bool:
    """Whether the text lists items ("HGRN (...), HGRN2 (...), ... and Mamba", "(i) ... (ii)")."""
    return bool(_ENUMERATION.search(text))


def numbers_in(text: str) -> list[str]:
    """The numbers a text states, without citation years and equation numbers."""
    clean = _EQUATION_NUMBER.sub(" ", _YEAR_CITE.sub(" ", text))
    return [m.group(0) for m in _NUMBER.finditer(clean)] + _WORD_NUMBER.findall(clean)


def gives_reason(text: str) -> bool:
    """Whether the text states a reason ("because", "due to", "motivated by", ...)."""
    return bool(_REASON.search(text))


_ANAPHOR = re.compile(r"^(?:This|These|That|Those|It|Its|They|Their|Such|Both|Here)\b")


def completes_with_number(question: str, text: str) -> bool:
    """Whether `text` completes the sentence before it with a number the question does not
    state: it opens with a pronoun ("This model reaches a perplexity of 16.38"), so its subject
    is the sentence before, which says what the question asks about."""
    if not _ANAPHOR.match(text):  # most sentences: no need to read the question's numbers
        return False
    asked = set(numbers_in(question))
    return any(n not in asked for n in numbers_in(text))


def type_fit(kind_wanted: str, text: str, role: str, question: str = "") -> float:
    """How well the unit's form fits the wanted answer type, in [0, 1] (0.5: no opinion)."""
    if kind_wanted == "number":
        if role == "table_row":
            return 1.0
        asked = set(numbers_in(question))
        new = [n for n in numbers_in(text) if n not in asked]
        return 1.0 if new else 0.0
    if kind_wanted == "reason":
        return 1.0 if gives_reason(text) else 0.0
    if kind_wanted == "name":
        asked = {m.lower() for m in _NAME.findall(question)}
        new = [m for m in _NAME.findall(text) if m.lower() not in asked]
        return 1.0 if new or role == "table_row" else 0.3
    if kind_wanted == "list":
        return 1.0 if enumerates(text) else 0.3
    return 0.5


# the question's focus: what it asks for, right after its wh-word ("which *training step* are
# the models compared at", "what *vocabulary size* is used"), or after "what is the"
_FOCUS_AFTER_WH = re.compile(
    r"\b(?:what|which|how many|how much)\s+((?:[\w\-]+\s+){1,3}?)(?:is|are|was|were|does|do|"
    r"did|has|have|had|can|could|would|will|must)\b",
    re.IGNORECASE,
)
_FOCUS_AFTER_IS = re.compile(
    r"\b(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+|a\s+|an\s+)?((?:[\w\-]+\s+){0,2}?"
    r"[\w\-]+)\s+(?:of|for|in|on|at|by|used|that|when|with|between)\b",
    re.IGNORECASE,
)
_VAGUE_FOCUS = {"model", "models", "method", "methods", "paper", "value", "values", "number"}


def focus_words(question: str) -> set[str]:
    """The content words of what the question asks for ("training step", "vocabulary size",
    "perplexity"), without vague ones ("model", "value"); empty when it has no such phrase."""
    match = _FOCUS_AFTER_WH.search(question) or _FOCUS_AFTER_IS.search(question)
    return content_words(match.group(1)) - _VAGUE_FOCUS if match else set()


def focus(question: str, text: str) -> float:
    """Share of the question's focus words the unit says (a word matches on its first five
    letters: "compared" and "comparison"), in [0, 1]; 0.5 when the question has none.
    `heuristic_reader` leaves table rows to the table reading (`app.table_cells`): their
    headers abbreviate ("ppl") or leave the measure to the caption."""
    return _share_said(focus_words(question), text)


def _share_said(wanted: set[str], text: str) -> float:
    """Share of `wanted` words `text` says, on their first five letters; 0.5 for none wanted."""
    if not wanted:
        return 0.5
    said = {w[:5] for w in content_words(text)}
    return sum(w[:5] in said for w in wanted) / len(wanted)


_ANNOUNCEMENT = re.compile(
    r"\b(in this (section|paper|work|appendix)|in the following|we (now |first |next |then )?"
    r"(raise|ask|address|investigate|describe|present|introduce|show|test|study|discuss|"
    r"compare|consider|explore|report|provide|list)\b|as follows|is shown in|are shown in|"
    r"see (table|figure|fig\.|section|appendix)|shown in (table|figure))",
    re.IGNORECASE,
)
_POINTER = re.compile(r"\b(Table|Figure|Fig\.)\s*(\d+)", re.IGNORECASE)


def content_words(text: str) -> set[str]:
    return {t for t in bm25_tokens(text) if len(t) > 1}


def novelty(question: str, text: str) -> float:
    """Share of the unit's content words the question does not already say, in [0, 1]; a
    question the paper asks itself scores 0, an announcement of what follows at most 0.3."""
    if text.rstrip().endswith("?"):
        return 0.0
    words = content_words(text)
    if not words:
        return 0.0
    share = len(words - content_words(question)) / len(words)
    return min(share, 0.3) if is_announcement(text) else share


def is_announcement(text: str) -> bool:
    """Text that announces or points ("In Table 2 we show ...", "... as follows:")."""
    return bool(_ANNOUNCEMENT.search(text)) or text.rstrip().endswith(":")


def role_penalty(role: str, question: str) -> float:
    """1 for a role that does not answer (caption, equation, reference, heading) unless the
    question asks for it; 0.3 for a whole table (too long to quote); 0 otherwise."""
    asks = {
        # "what does Figure 3 show", "in the illustration of the MQAR task, what do ... stand for"
        "caption": r"\b(table|show)\b.*\b(show|depict|about)|\b(illustrat\w*|schematic|diagram|"
        r"caption|legend|figure|fig\.)",
        "equation": r"\b(equation|formula|defined|computed|compute|update rule)\b",
        "reference": r"\b(cite|cites|reference|who wrote|published (in|by|at)|authors of)\b",
        "heading": r"\b(section|chapter|heading)\b",
    }
    if role in asks:
        return 0.0 if re.search(asks[role], question, re.IGNORECASE) else 1.0
    return 0.3 if role == "table" else 0.0


def pointed_table(text: str) -> str | None:
    """ "2" when the unit points to Table 2 without being one of its rows or its caption."""
    if _CAPTION.match(text):
        return None
    match = _POINTER.search(text)
    return match.group(2) if match and match.group(1).lower().startswith("tab") else None


@dataclass(frozen=True)
class ReaderWeights:
    """Weights of the heuristic reader's signals (tuned on the dev split)."""

    type_fit: float = 0.15
    novelty: float = 0.15
    role: float = 0.3
    focus: float = 0.15


def heuristic_reader(weights: ReaderWeights | None = None) -> Reader:
    """The reader from the signals above: a weighted sum, centred so 0 means no opinion."""
    w = weights or ReaderWeights()

    def score(question: str, units: Sequence[Unit]) -> list[float]:
        wanted = answer_type(question)
        asked = focus_words(question)  # once per question, not per unit

        def focus_of(u: Unit) -> float:  # table rows are left to the table reading
            return 0.5 if u.kind in ("table_row", "table") else _share_said(asked, u.text)

        return [
            w.type_fit * (type_fit(wanted, u.text, u.kind, question) - 0.5)
            + w.novelty * (novelty(question, u.text) - 0.5)
            + w.focus * (focus_of(u) - 0.5)
            - w.role * role_penalty(u.kind, question)
            for u in units
        ]

    return score


def upr_reader(upr_fn: Callable[[str, list[str]], Sequence[float]]) -> Reader:
    """The xLSTM's UPR re-ranking (`AnswerGenerator.upr_scores`) as a reader."""

    def score(question: str, units: Sequence[Unit]) -> Sequence[float]:
        return upr_fn(question, [u.text for u in units])

    return score


def xlstm_reader(read_fn: Callable[[str, list[str]], Sequence]) -> Reader:
    """The trained xLSTM reader (`AnswerGenerator.read`: reader-head score and span per unit) as
    a reader; a unit with an `xlstm_span` field (`app.evidence.Candidate`) keeps the span the
    model chose, so citations and the sources view can show it."""

    def score(question: str, units: Sequence[Unit]) -> Sequence[float]:
        readings = read_fn(question, [u.text for u in units])
        for unit, reading in zip(units, readings, strict=True):
            if hasattr(unit, "xlstm_span"):
                unit.xlstm_span = reading.span
        return [r.score for r in readings]

    return score
