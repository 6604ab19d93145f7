"""Answer and retrieval metrics: pure, offline functions (no LLM judge).

- `answer_f1`, `rouge_l`: token overlap with a reference answer after SQuAD normalisation.
- key-term matching lives in `app.key_terms` (numbers exact, layout-robust).
- `grounded`: how much of an answer the retrieved text supports (defined in its docstring).
- `hit_and_rank`, `mrr`: whether, and how high, an evidence page was retrieved.
- `percentile`: latency summaries.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from ingest.sentences import split_sentences
from ingest.words import STOP_WORDS

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
# "[xLSTM, p. 9]" or "[xLSTM, pp. 9-10]": the answer's page citations, not part of its content.
_CITATION = re.compile(r"\[[^\[\]]{0,80}?,\s*pp?\.\s*[\d\s,–-]+\]")
_ARXIV_ID = re.compile(r"(?<!\d)(\d{4}\.\d{4,5})(v\d+)?(?!\d)", re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_citations(text: str) -> str:
    """The text without its "[Paper, p. N]" citation markers."""
    return " ".join(_CITATION.sub(" ", text).split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def answer_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between the normalised prediction and reference (1.0 if both are empty)."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (beta = 1) over normalised tokens: LCS precision and recall."""
    pred, ref = _tokens(prediction), _tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    lcs = _lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def content_tokens(text: str) -> set[str]:
    """Normalised tokens of `text` without stop words."""
    return {t for t in _tokens(text) if t not in STOP_WORDS}


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences (or bullet lines); a citation marker also ends a sentence."""
    pieces = []
    for line in _CITATION.sub("\n", answer).splitlines():
        line = line.strip().lstrip("-*• ").strip()
        pieces.extend(split_sentences(line, min_chars=1))
    return pieces


def grounded(answer: str, source_texts: Iterable[str], threshold: float = 0.6) -> float:
    """Share of the answer's sentences that the retrieved text supports, in [0, 1].

    The answer is split into sentences (and bullet lines), citation markers removed. A sentence
    is supported when, for at least one source text, at least `threshold` of the sentence's
    distinct content tokens (normalised, stop words removed) occur in that source. Sentences
    without content tokens are not counted; an answer with no counted sentence scores 0.0.
    """
    sources = [content_tokens(t) for t in source_texts]
    scored = [content_tokens(s) for s in answer_sentences(answer)]
    scored = [tokens for tokens in scored if tokens]
    if not scored:
        return 0.0
    supported = sum(
        any(len(tokens & source) / len(tokens) >= threshold for source in sources)
        for tokens in scored
    )
    return supported / len(scored)


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _arxiv_ids(*names: Any) -> set[tuple[str, str | None]]:
    """(base id, version or None) of every arXiv id found in the given names."""
    found = set()
    for name in names:
        for base, version in _ARXIV_ID.findall(str(name or "")):
            found.add((base, version.lower() or None))
    return found


def same_paper(source: Any, evidence: Any) -> bool:
    """Whether a retrieved source and an evidence entry name the same paper (and version).

    Papers match when their file names are equal, or when they share an arXiv id whose versions
    do not conflict: "2405.04517" matches "xlstm-2405.04517v2.pdf" and "2405.04517v2", but
    "2405.04517v1" does not match "2405.04517v2" (page numbers differ between versions).
    """
    src_name = PurePath(str(_field(source, "paper") or "")).name.lower()
    ev_name = PurePath(str(_field(evidence, "paper") or "")).name.lower()
    if src_name and src_name == ev_name:
        return True
    src_ids = _arxiv_ids(src_name, _field(source, "arxiv_id"))
    ev_ids = _arxiv_ids(ev_name, _field(evidence, "arxiv_id"))
    return any(
        base == other_base and (version is None or other is None or version == other)
        for base, version in src_ids
        for other_base, other in ev_ids
    )


def hit_and_rank(sources: Sequence[Any], evidence: Sequence[Any]) -> tuple[bool, int | None]:
    """(hit, 1-based rank of the first source on an evidence page) — (False, None) if none.

    `sources` are retrieved items (objects or dicts with `paper`, `page`, optional `arxiv_id`);
    `evidence` are dicts (or objects) with `paper` and `page`.
    """
    for rank, source in enumerate(sources, start=1):
        page = _field(source, "page")
        for item in evidence:
            same_page = page is not None and int(page) == int(_field(item, "page"))
            if same_page and same_paper(source, item):
                return True, rank
    return False, None


def mrr(ranks: Iterable[int | None]) -> float:
    """Mean reciprocal rank; a None rank (not retrieved) counts 0. Empty input gives 0.0."""
    values = [0.0 if r is None else 1.0 / r for r in ranks]
    return sum(values) / len(values) if values else 0.0


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100), interpolated linearly like numpy's default; None if empty."""
    data = sorted(float(v) for v in values)
    if not data:
        return None
    if not 0 <= q <= 100:
        msg = f"percentile q must lie in [0, 100], got {q}"
        raise ValueError(msg)
    position = (len(data) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return data[low] + (data[high] - data[low]) * (position - low)
