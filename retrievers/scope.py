"""Which papers a question is about: the scope filter and the papers a question names.

A scope is a tuple of `source` file names (chunk metadata `source`, the question set's `evidence`
papers); empty means every paper. `papers_named` reads the papers a question names by arXiv id,
file name, title or the short name before a title's colon ("xLSTM", "Mamba"), or as
"the <nickname> paper" with the file name's first word ("the RetNet paper");
`follow_up_scope` carries the previous question's scope to a question that only says "the paper"
or "the authors".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

_ARXIV = re.compile(r"(?<![\w.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\w.])", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
# "the paper", "the authors", "this work", "they propose": a question about the paper in view.
_DEICTIC = re.compile(
    r"\b(?:the|this|that|their|its|these|same)\s+(?:paper|papers|article|work|study|authors?|"
    r"method|model|approach|architecture|experiments?)\b|\b(?:they|their|the authors)\b",
    re.IGNORECASE,
)
_MIN_TITLE_WORDS = 3  # a shorter title ("Layer Normalization") is a topic, not a name
_MAX_SHORT_NAME_WORDS = 3  # "xLSTM", "Switch Transformers"; longer prefixes are taglines


class PaperLike(Protocol):
    """What `papers_named` reads of a paper (`ingest.store.PaperInfo` has it)."""

    source: str
    title: str
    arxiv_id: str


def source_filter(papers: Sequence[str]) -> dict | None:
    """The Chroma `where` filter admitting only chunks of `papers` (None: every paper)."""
    if not papers:
        return None
    return {"source": {"$in": sorted(set(papers))}}


def in_scope(metadata: dict[str, Any], papers: Sequence[str]) -> bool:
    """Whether a chunk with this metadata belongs to `papers` (every chunk when empty)."""
    return not papers or metadata.get("source") in papers


def _normal(text: str) -> str:
    """Lower-cased words joined by single spaces, padded so phrases match on word boundaries."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def _base_id(arxiv_id: str) -> str:
    match = _ARXIV.search(arxiv_id or "")
    return match.group(1) if match else ""


def short_name(title: str) -> str:
    """The name before a title's colon ("xLSTM" of "xLSTM: Extended ..."), or ""."""
    head, sep, _ = title.partition(":")
    words = _WORD.findall(head.lower())
    return " ".join(words) if sep and 0 < len(words) <= _MAX_SHORT_NAME_WORDS else ""


def nickname(source: str) -> str:
    """The first word of a file name ("retnet" of "retnet-2307.08621.pdf"), or ""."""
    stem = Path(source).stem.lower()
    first = re.split(r"[-_ ]", stem, maxsplit=1)[0]
    return first if first != stem and first.isalnum() and not first.isdigit() else ""


def _title_phrases(paper: PaperLike) -> list[str]:
    """Title phrases that name `paper`: its whole title and the part after its colon (each of
    3+ words), and its short name."""
    phrases = []
    for part in (paper.title, paper.title.partition(":")[2]):
        words = _WORD.findall(part.lower())
        if len(words) >= _MIN_TITLE_WORDS:
            phrases.append(" ".join(words))
    if short_name(paper.title):
        phrases.append(short_name(paper.title))
    return phrases


def _names_paper(text: str, ids: set[str], paper: PaperLike) -> str:
    """The longest phrase of `text` (normalised) that names `paper`, or "" when none does."""
    if _base_id(paper.arxiv_id) and _base_id(paper.arxiv_id) in ids:
        return paper.source
    found = [
        phrase
        for phrase in (*_title_phrases(paper), Path(paper.source).stem.lower())
        if phrase and _normal(phrase) in text
    ]
    nick = nickname(paper.source)
    if nick and f" {nick} paper " in text:
        found.append(f"{nick} paper")
    return max(found, key=len, default="")


def papers_named(question: str, papers: Iterable[PaperLike]) -> tuple[str, ...]:
    """The `source` names of the papers `question` names, in store order.

    A paper is named by its arXiv id (any version), its file name, its whole title or the part
    after its colon (3+ words), the short name before its title's colon ("the xLSTM paper",
    "in Mamba"), or its file name's first word followed by "paper" ("the RetNet paper"). When
    one paper's matched phrase lies inside another's ("Long Short-Term Memory" inside "Extended
    Long Short-Term Memory"), only the longer one counts.
    """
    text = _normal(question)
    ids = {match.group(1) for match in _ARXIV.finditer(question)}
    matches = [(paper.source, _names_paper(text, ids, paper)) for paper in papers]
    matches = [(source, phrase) for source, phrase in matches if phrase]
    phrases = [phrase for _, phrase in matches]
    return tuple(
        dict.fromkeys(
            source
            for source, phrase in matches
            if not any(phrase != other and _normal(phrase) in _normal(other) for other in phrases)
        )
    )


def refers_back(question: str) -> bool:
    """Whether `question` speaks of a paper in view ("the paper", "the authors", "they")."""
    return bool(_DEICTIC.search(question))


def follow_up_scope(
    question: str, papers: Iterable[PaperLike], previous: Sequence[str]
) -> tuple[str, ...]:
    """The papers a question in a conversation is about: those it names; else, when it only
    refers back ("the authors", "the paper"), the previous question's scope; else none."""
    named = papers_named(question, papers)
    if named:
        return named
    return tuple(previous) if previous and refers_back(question) else ()


class UnknownPaperError(ValueError):
    """A paper asked for by id, file name, arXiv id or title that the store does not hold."""


def resolve_papers(store: Any, wanted: Sequence[str]) -> tuple[str, ...]:
    """The `source` names of the stored papers matching each of `wanted` (paper_id or a 6+
    prefix, file name, arXiv id or title, as `python -m ingest --remove` matches them).

    Raises:
        UnknownPaperError: one of `wanted` matches no stored paper.
    """
    sources: list[str] = []
    for paper in wanted:
        matches = store.find_papers(paper)
        if not matches:
            msg = (
                f"no stored paper matches {paper!r}; see the papers with `python -m ingest --list`"
            )
            raise UnknownPaperError(msg)
        sources.extend(info.source for info in matches)
    return tuple(dict.fromkeys(sources))
