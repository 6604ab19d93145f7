"""Spans cut from running text for the short answer (`app.short_answer`): the number a
question asks for, with its qualifier and unit ("about 4 times slower", "300k steps", "[3, 5,
7]"), and the name next to the question's head noun ("HuggingFace GPT-2 tokenizer"). Each is
quoted from the text, never generated; None where the text does not state what is asked.
"""

from __future__ import annotations

import re

from app.reader import content_words, numbers_in

_QUALIFIER = r"(?:(?:about|around|approximately|nearly|roughly|up to|over|less than|more than)\s+)?"
_UNIT_WORDS = (
    r"(?:\s+(?:times|x)\b(?:\s+(?:slower|faster|larger|smaller|more|fewer))?"
    r"|\s*%|\s+(?:tokens|parameters|params|steps|nodes|GPUs?|hours|days|layers|blocks|heads|"
    r"epochs|dimensions?|pairs|samples|sequences|bits|words|billion|million)\b)?"
)
_VERB = r"(?:is|are|was|were|does|do|did|has|have|can|could|reach|reaches|achieve|use|uses)"

_HOW_MUCH = re.compile(r"\bhow (?:many|much)\s+((?:[\w\-]+\s+){0,1}[\w\-]+)", re.IGNORECASE)
_WHAT_MEASURE = re.compile(
    r"\b(?:what|which)\s+((?:[\w\-]+\s+){0,2}?(?:length|size|rate|dimensions?|count|steps|"
    r"ratio|percentage|throughput|speed|memory|heads|blocks|layers))\b",
    re.IGNORECASE,
)
_MEASURED = re.compile(r"\b(perplexit(y|ies)|accurac(y|ies)|ppl|score|loss)\b", re.IGNORECASE)
_NUMBER_SPAN = re.compile(
    rf"{_QUALIFIER}(?<![\w.\[:])(?<![A-Za-z]-)"  # not the 6 of "RWKV-6"
    rf"(\d+\s?[x×]\s?\d+\b|\d+(?:[.,]\d+)*(?:e-?\d+)?(?![\d:])(?:\s?[KMB]\b)?|two|three|four|five|six|seven|"
    rf"eight|nine|ten){_UNIT_WORDS}",
    re.IGNORECASE,
)
_NUMBER_LIST = re.compile(r"\[\d+(?:,\s*\d+)+\]")
_SECTION_NUMBER = re.compile(r"^\d+(\.\d+)+\s")


def number_span(question: str, text: str, reach: int = 80) -> str | None:
    """The number (with its qualifier and unit, or the whole "[3, 5, 7]" list it sits in) that
    the question does not already state, nearest to the question's words in `text` and at most
    `reach` characters from one. A measured value (perplexity, accuracy) must have decimals."""
    asked = set(numbers_in(question))
    start = m.end() if (m := _SECTION_NUMBER.match(text)) else 0
    spans = [
        m
        for m in _NUMBER_SPAN.finditer(text, start)
        if m.group(1) not in asked and not _is_citation(text, m) and not _bare_word_number(m)
    ]
    if measured := _MEASURED.search(question):  # a perplexity has decimals, not a percent
        percent_ok = not re.match(r"perplex|ppl|loss", measured.group(0), re.IGNORECASE)
        spans = [m for m in spans if _measured_value(m.group(0), percent_ok)]
    if what := _WHAT_MEASURE.search(question):  # "What context length": a number near those
        near = _anchors(content_words(what.group(1)), text)
        spans = [m for m in spans if any(abs(m.start() - a) <= reach for a in near)]
    measure = _HOW_MUCH.search(question)  # "How much GPU memory": near "gpu" or "memory"
    words = content_words(measure.group(1)) if measure else content_words(question)
    anchors = _anchors(words, text)
    if not spans or not anchors:
        return None
    named = _clauses_naming(question, text)  # "the 1.3B models ... 300k steps", not the 760M's

    def distance(m: re.Match) -> int:
        return min(abs(m.start() - a) for a in anchors)

    best = min(
        spans, key=lambda m: (bool(named) and _clause_at(text, m.start()) not in named, distance(m))
    )
    if distance(best) > reach:
        return None
    listed = next(
        (x for x in _NUMBER_LIST.finditer(text) if x.start() < best.start() < x.end()), None
    )
    return listed.group(0) if listed else best.group(0).strip()


_ASK = r"(?:what|which|how many|how much)"
# "What embedding dimension and how many residual blocks do the models have?": two measures of
# at most four words each, joined by "and", before the verb they share
_COMPOUND = re.compile(
    rf"^(?P<lead>.*?\b{_ASK})\s+(?P<a>[\w/-]+(?:\s+[\w/-]+){{0,3}}?)\s+and\s+"
    rf"(?:(?P<ask>{_ASK})\s+)?(?P<b>[\w/-]+(?:\s+[\w/-]+){{0,3}}?)\s+(?P<rest>{_VERB}\b.*)$",
    re.IGNORECASE,
)
_VERB_WORD = re.compile(rf"\b{_VERB}\b", re.IGNORECASE)


def question_parts(question: str) -> list[tuple[str, str]]:
    """(question, measure) for each measure a compound question asks, with the verb and the
    rest they share: "What context length and batch size were used ...?" -> ("What context
    length were used ...?", "context length"), ("What batch size were used ...?", "batch
    size"); [] when it asks for one measure."""
    m = _COMPOUND.match(" ".join(question.split()))
    # "What ppl do Llama and Mamba reach": two models of one measure, not two measures
    if m is None or _VERB_WORD.search(m["a"]) or _VERB_WORD.search(m["b"]):
        return []
    ask = m["ask"] or re.findall(_ASK, m["lead"], re.IGNORECASE)[-1]
    return [(f"{m['lead']} {m['a']} {m['rest']}", m["a"]), (f"{ask} {m['b']} {m['rest']}", m["b"])]


def compound_number_span(question: str, text: str) -> str | None:
    """ "768 (embedding dimension); 12 (residual blocks)": the number `text` states for each
    part of a compound question (`question_parts`), in the question's order, named by its
    measure unless the span names it (where it states one of them: that one alone); None for a
    question that asks one thing or a text that states none of them."""
    found: dict[str, str] = {}
    for part, measure in question_parts(question):
        span = number_span(part, text)
        if span and span not in found:
            named = measure.split()[-1].lower() in span.lower()
            found[span] = span if named else f"{span} ({measure})"
    if len(found) == 1:
        return next(iter(found))
    return "; ".join(found.values()) or None


_CLAUSE_BREAK = re.compile(r"[,;]\s|\s(?:whereas|while|but)\s")
_SPECIFIC = re.compile(r"\b\d+(?:\.\d+)?[MBK]\b|\b\w[\w.\-]*\[\d+:\d+\]")  # "1.3B", "xLSTM[7:1]"


def _clause_at(text: str, position: int) -> int:
    """The index of the clause of `text` (split at commas, semicolons, "whereas") at `position`."""
    return sum(1 for m in _CLAUSE_BREAK.finditer(text, 0, position))


def _clauses_naming(question: str, text: str) -> set[int]:
    """The clauses of `text` that state a model size or model name the question gives."""
    found = set()
    for name in {m.group(0) for m in _SPECIFIC.finditer(question)}:
        found |= {_clause_at(text, m.start()) for m in re.finditer(re.escape(name), text)}
    return found


def _anchors(words: set[str], text: str) -> list[int]:
    """Where the `words` stand in `text`."""
    return [m.start() for w in words for m in re.finditer(re.escape(w), text.lower())]


def _bare_word_number(match: re.Match) -> bool:
    """ "two" alone ("two relevant variables") is no answer; "two times slower" is."""
    return match.group(1).isalpha() and match.group(0).split()[-1] == match.group(1)


def _measured_value(span: str, percent_ok: bool) -> bool:
    if "%" in span:
        return percent_ok
    size = re.search(r"\d\s?[KMB]$", span)  # "1.3B" is a model size, not a perplexity
    return bool(re.search(r"\d\.\d", span)) and not size


def _is_citation(text: str, match: re.Match) -> bool:
    """A year in "(Sun et al., 2023)", an equation number "(34)", or the number of a table,
    figure, section or equation the text points to ("Table 6 shows …")."""
    value = match.group(1)
    before, after = text[: match.start(1)], text[match.end(1) :]
    if re.fullmatch(r"(19|20)\d{2}", value) and re.search(r"(al\.|,)\s*$", before):
        return True
    if _POINTER.search(before):
        return True
    return before.endswith("(") and after.startswith(")")


_POINTER = re.compile(
    r"\b(?:Tables?|Figures?|Figs?\.|Sections?|Sec\.|Appendix|Equations?|Eqs?\.)\s*$"
)


def name_span(question: str, text: str) -> str | None:
    """The name next to the question's head noun ("Which tokenizer ..." → "HuggingFace GPT-2
    tokenizer"); None when `text` does not name one there."""
    head = head_noun(question)
    if head is None:
        return None
    match = re.search(rf"\b{re.escape(head)}s?\b", text, re.IGNORECASE)
    if match is None:
        return None
    before = text[: match.start()].split()
    run = []
    for word in reversed(before):
        if not _name_like(word) or word.lower() in {w.lower() for w in question.split()}:
            break
        run.insert(0, word)
    if run:
        return " ".join([*run, match.group(0)])
    after = re.match(r"\s+((?:[A-Z][\w\-]*\s*){1,4})", text[match.end() :])
    if after and not set(after.group(1).lower().split()) & content_words(question):
        return f"{match.group(0)} {after.group(1).strip()}"
    return None


def head_noun(question: str) -> str | None:
    """ "tokenizer" of "Which tokenizer is used ...", "layer" of "Which normalization layer ..."."""
    match = re.search(
        rf"\b(?:which|what)\s+((?:[\w\-]+\s+){{0,3}}?[\w\-]+)\s+{_VERB}\b", question, re.I
    )
    if match is None:
        return None
    word = match.group(1).split()[-1].lower()
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _name_like(word: str) -> bool:
    core = word.strip("(),;:")
    return bool(core) and (core[0].isupper() or any(ch.isdigit() for ch in core)) and core == word
