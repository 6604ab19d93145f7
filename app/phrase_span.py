"""The phrase a sentence adds to the question: the short answer to "what", "which" and "how"
questions that ask for no number ("To which earlier approach is the covariance update rule
equivalent?" -> "Fast Weight Programmers", from "The covariance update rule is equivalent to
Fast Weight Programmers (Schmidhuber, 1992; …)").

A sentence's words that the question also says are its anchors. The answer lies in the clause
with the most anchors: from its first word the question does not say to its last one, at most
`MAX_WORDS` words, and only when the clause's sentence says at least `MIN_SAID` of the
question's words. Three question forms get a part of their own: "whose …" or "which work …"
the sentence's citation, "how is X done" its "by …ing" clause, "which of A and B" the one the
text says beats the other. Quoted from the unit, never generated; None where no clause is about
what the question asks or every word of it is the question's own.
"""

from __future__ import annotations

import re

from app.reader import LEAD, content_words
from ingest.words import STOP_WORDS

MAX_WORDS = 12  # a phrase or a short clause, not a sentence
# the clause's sentence must say this share of the question's content words. Dev (session 14,
# the phrases of all three retrievers): 0.3 withholds 28 of 126, 5 of them right (the kept
# phrases hold the value 36 / 98, the withheld 5 / 28); 0.2 withholds 4, 0.4 44 (14 right)
MIN_SAID = 0.3
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(•])|\s+•\s+")
_CLAUSE = re.compile(r"[,;:]\s+|\s+[—–]\s+")
_CITED = re.compile(r"\(([^()]*\b(?:19|20)\d{2}[a-z]?)\s*\)")  # "(Schmidhuber, 1992; …)"
_WHO = re.compile(r"\b(whose|who|which (?:\w+ )?(?:work|paper|authors?|study)|credit)\b", re.I)
_HOW = re.compile(rf"{LEAD}how\s+(?!many|much|long|far|large|big)\w+", re.I)
_BY_DOING = re.compile(r"\bby\s+\w+ing\b[^.;:]*")
_WHICH_OF = re.compile(r"\bwhich of (?:the )?(\S+) (?:and|or) (\S+?)[,?]?\s", re.I)
_BEATS = re.compile(r"\s(?:\w+\s){0,2}?(?:outperforms?|beats?|(?:is|are|performs?|does) better)")
_WORDY = re.compile(r"[A-Za-z]{3}")  # "(AR)" or "m" alone is no phrase
_NOT_WORDS = STOP_WORDS | {"also", "only", "then", "thus", "here", "therefore", "finally", "e.g."}


def _stem(word: str) -> str:
    """A crude stem: "computed", "computes", "computation" -> "comput"."""
    return re.sub(r"(ations?|ings?|ed|es|s)$", "", word.lower().strip(".:’'\"()"))[:6]


def phrase_span(question: str, text: str) -> str | None:
    """The part of `text` that answers `question`: the novel words of its best anchored clause
    (or the citation a "whose" or "which work" question asks for)."""
    asked = {_stem(w) for w in content_words(question)}
    if winner := _better_of(question, text):
        return winner
    clauses = [(c, s) for s in _SENTENCE.split(text) for c in _split(_CLAUSE, s) if c.strip()]
    scored = [(_anchors(c, asked), len(c.split()), -i, c, s) for i, (c, s) in enumerate(clauses)]
    anchors, _, _, clause, sentence = max(
        scored, key=lambda x: (x[0], x[0] / x[1], x[2]), default=(0, 1, 0, "", "")
    )
    if anchors < min(2, len(asked)) or _anchors(sentence, asked) < MIN_SAID * len(asked):
        return None  # no clause is about what the question asks
    if _WHO.search(question) and (cited := _CITED.search(clause) or _CITED.search(sentence)):
        return cited.group(1).strip()  # "Greff et al., 2015"
    if _HOW.match(question) and (means := _BY_DOING.search(sentence)):
        return _trimmed(means.group(0))  # "How is overflow avoided?" -> "by taking the log …"
    phrase = _novel_part(clause, asked)
    return phrase if phrase and _WORDY.search(re.sub(r"\([^()]*\)", "", phrase)) else None


def _trimmed(words: str) -> str:
    """At most `MAX_WORDS` words, no trailing comma or function word."""
    kept = words.split()[:MAX_WORDS]
    while kept and kept[-1].lower().strip(",") in _NOT_WORDS:
        kept.pop()
    return " ".join(kept).rstrip(".,;:")


def _better_of(question: str, text: str) -> str | None:
    """ "Which of A and B …?" -> the one the text says beats the other ("A outperforms B")."""
    if not (which := _WHICH_OF.search(question)):
        return None
    for name in which.groups():
        if re.search(re.escape(name) + _BEATS.pattern, text):
            return name
    return None


def _split(pattern: re.Pattern, text: str) -> list[str]:
    """`text` split at `pattern`, but not inside parentheses ("(Schmidhuber, 1992; …)")."""
    masked = re.sub(r"\([^()]*\)", lambda m: "(" + "_" * (len(m.group()) - 2) + ")", text)
    cuts = [(m.start(), m.end()) for m in pattern.finditer(masked)]
    starts, ends = [0] + [e for _, e in cuts], [s for s, _ in cuts] + [len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True)]


def _anchors(clause: str, asked: set[str]) -> int:
    return len({_stem(w) for w in clause.split() if w.lower() not in STOP_WORDS} & asked)


def _novel_part(clause: str, asked: set[str]) -> str | None:
    """The clause from its first to its last word the question does not say (citations are
    not words of it), quoted as the clause has it."""
    cited = [m.span() for m in _CITED.finditer(clause)]
    words = [
        m for m in re.finditer(r"\S+", clause) if not any(a <= m.start() < b for a, b in cited)
    ]
    novel = [
        i
        for i, m in enumerate(words)
        if m.group().lower().strip(".,()") not in _NOT_WORDS
        and _stem(m.group()) not in asked
        and _stem(m.group())
    ]
    if not novel:
        return None
    last = novel[-1]
    while last + 1 < len(words) and words[last + 1].group().lower() not in _NOT_WORDS:
        last += 1  # "a constant" + "memory complexity": the noun the question names
    last = min(last, novel[0] + MAX_WORDS - 1)
    while last > novel[0] and words[last].group().lower().strip(",") in _NOT_WORDS:
        last -= 1  # a phrase cut at `MAX_WORDS` ends on a word, not on "a" or "of"
    phrase = clause[words[novel[0]].start() : words[last].end()]
    if phrase.count("(") > phrase.count(")"):  # cut inside "(see Figure 3 and 10)": before it
        phrase = phrase[: phrase.rfind("(")]
    return phrase.rstrip(".,;: ") or None
