"""Evidence sentences: split retrieved documents, score them against the question, pick a few.

Scores combine three signals, each comparable across candidates of one question:
- dense: cosine(question, sentence) with the store's sentence embeddings (MiniLM);
- lexical: idf-weighted share of the question's content words the sentence contains (numbers
  and names such as "xLSTM[7:1]" are lexical);
- xLSTM: how much the sentence raises the locally trained model's log-probability of the
  question's tokens (UPR re-ranking, Sachan et al., 2022, arXiv 2204.07496, as pointwise mutual
  information; see `AnswerGenerator.upr_scores`), z-normalised over the top candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from app.reader import Reader, is_announcement, pointed_table, unit_role
from ingest.sentences import split_sentences
from retrievers.hybrid import bm25_tokens


@dataclass
class Candidate:
    text: str
    doc_index: int  # which retrieved document it came from (0 = best ranked)
    metadata: dict
    dense: float = 0.0
    lexical: float = 0.0
    upr: float = 0.0
    score: float = 0.0
    kind: str = "text"  # the unit's role (app.reader.ROLES)
    position: int = 0  # sentence number inside its document
    reader: float = 0.0  # the readers' part of `score` (app.reader), the xLSTM's included
    xlstm: float = 0.0  # the xLSTM reader's part of it (its weighted, z-scored score)
    xlstm_span: str = ""  # the span the trained xLSTM reader chose in this unit (if it read it)


_UNIT_KINDS = ("table_row", "table", "caption", "equation", "reference", "heading")
_WINDOW_WORDS = 12  # a sentence this short is also read together with the next one


def candidates_from(
    docs: Sequence[Document],
    max_candidates: int = 60,
    follows: Callable[[str], bool] | None = None,
) -> list[Candidate]:
    """Unique units of the retrieved documents, in retrieval order: sentences, whole units that
    ingest marked (a table row stays one unit), and windows of a short sentence (a heading, an
    announcement) with the sentence after it, and of each sentence with a next one `follows`
    accepts: for a "why" question the reason (`app.reader.gives_reason`: "... power-law
    distribution. This is motivated by ...": the sentence says what the question asks about,
    the next one why), for a number question the value (`app.reader.completes_with_number`),
    for a list question the enumeration (`app.reader.enumerates`)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for i, doc in enumerate(docs):
        units = units_of(doc)
        for position, (text, kind) in enumerate(units):
            key = text.lower()
            if text and key not in seen:
                seen.add(key)
                out.append(Candidate(text, i, doc.metadata, kind=kind, position=position))
        out += _windows(units, i, doc.metadata, seen, follows)
    return out[:max_candidates]


_TABLE_LABEL = re.compile(r"^Table\s*(\d+)\b")


def tables_named(candidates: Sequence[Candidate]) -> list[tuple[str, int]]:
    """(paper file, table number) of every table the evidence shows or names: a row or a
    whole table, a caption ("Table 2: ..."), a pointer ("as shown in Table 2"); in order."""
    named: dict[tuple[str, int], None] = {}
    for c in candidates:
        number = table_number(c) or pointed_table(c.text) or ""
        if number.isdigit():
            named[(str(c.metadata.get("source", "")), int(number))] = None
    return list(named)


def table_number(candidate: Candidate) -> str | None:
    """ "2" for a row or a whole table of Table 2 (its `table` metadata, else its label) or a
    unit labelled "Table 2..." (a caption); None otherwise."""
    number = str(candidate.metadata.get("table") or "")
    if candidate.kind in ("table_row", "table") and number:
        return re.sub(r"\D", "", number) or None
    match = _TABLE_LABEL.match(candidate.text)
    return match.group(1) if match else None


def table_candidates(
    candidates: Sequence[Candidate],
    rows_of: Callable[[str, int], Sequence[Document]] | None,
    doc_index: int,
    max_tables: int = 3,
    max_rows: int = 60,
    asked: Sequence[tuple[str, int]] = (),
) -> list[Candidate]:
    """The rows of the `asked` tables (app.table_lookup), then of the first `max_tables` tables
    the evidence names, that are not candidates yet (the fact next door: a caption or a pointer
    was retrieved, the row holding the value was not); at most `max_rows`, marked as coming
    after the `doc_index` retrieved documents."""
    if rows_of is None:
        return []
    seen = {c.text.lower() for c in candidates}
    out: list[Candidate] = []
    for source, table in dict.fromkeys([*asked, *tables_named(candidates)[:max_tables]]):
        for position, doc in enumerate(rows_of(source, table)):
            text = " ".join(doc.page_content.split())
            if text and text.lower() not in seen and len(out) < max_rows:
                seen.add(text.lower())
                row = Candidate(text, doc_index, doc.metadata, kind="table_row", position=position)
                out.append(row)
    return out


def units_of(doc: Document) -> list[tuple[str, str]]:
    """(text, role) of each unit of one retrieved document."""
    kind = doc.metadata.get("kind")
    text = doc.page_content.strip()
    if kind in _UNIT_KINDS:
        return [(" ".join(text.split()), str(kind))] if text else []
    sentences = split_sentences(doc.page_content) or ([text] if text else [])
    # a prose chunk's sentences get their own roles: a run-in heading ("Details on Downstream
    # Evaluation."), a caption or equation debris inside prose is no answer either
    inferred = {k: v for k, v in doc.metadata.items() if k != "kind"}
    return [(s, unit_role(s, inferred)) for s in sentences]


def _windows(
    units: list[tuple[str, str]],
    doc_index: int,
    metadata: dict,
    seen: set[str],
    follows: Callable[[str], bool] | None,
) -> list[Candidate]:
    out = []
    for position, ((text, kind), (after, _)) in enumerate(zip(units, units[1:], strict=False)):
        short = len(text.split()) <= _WINDOW_WORDS or text.endswith(":")
        wanted = kind == "text" and (short or (follows is not None and follows(after)))
        if wanted and (window := window_of(text, after, doc_index, metadata, position, seen)):
            out.append(window)
    return out


def window_of(
    text: str, after: str, doc_index: int, metadata: dict, position: int, seen: set[str]
) -> Candidate | None:
    """`text` read with the sentence `after` it, as one unit; None when `seen` (the lower-cased
    texts of the units so far) holds it already, else it joins `seen`."""
    window = f"{text} {after}"
    if window.lower() in seen:
        return None
    seen.add(window.lower())
    return Candidate(window, doc_index, metadata, kind="window", position=position)


def lexical_scores(question: str, texts: Sequence[str], idf_from: int | None = None) -> np.ndarray:
    """Idf-weighted share of the question's content tokens found in each text, in [0, 1]; the
    idf counts the first `idf_from` texts (all when None), so added texts change no score."""
    q_tokens = set(bm25_tokens(question))
    if not q_tokens or not texts:
        return np.zeros(len(texts))
    token_sets = [set(bm25_tokens(t)) for t in texts]
    counted = token_sets[:idf_from] if idf_from else token_sets
    n = len(counted)
    weight = {t: math.log(1 + n / (1 + sum(t in s for s in counted))) for t in q_tokens}
    # fsum: exactly rounded whatever the set's order, so the scores (and the ties between
    # them) do not change with Python's per-process string hashing
    total = math.fsum(weight.values()) or 1.0
    return np.array([math.fsum(weight[t] for t in q_tokens & s) / total for s in token_sets])


def dense_scores(
    question: str, texts: Sequence[str], embeddings: Embeddings
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of each text to the question, and the texts' unit vectors (for redundancy)."""
    q = np.asarray(embeddings.embed_query(question), dtype=np.float32)
    m = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32)
    q /= np.linalg.norm(q) + 1e-9
    m /= np.linalg.norm(m, axis=1, keepdims=True) + 1e-9
    return m @ q, m


def zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def on_base_scale(scores: np.ndarray, base: np.ndarray, weight: float) -> np.ndarray:
    """`weight` x the scores' z-scores x the spread of the `base` scores they are added to."""
    return weight * (float(base.std()) or 1.0) * zscore(scores)


@dataclass(frozen=True)
class ReaderSignal:
    """One reader in the evidence score: its scores times `weight`. A costly reader (the xLSTM)
    reads only the `top` units by the dense + lexical score; `zscore` puts its scores on the
    scale of those base scores (z-score times their spread), for scorers without a fixed range."""

    reader: Reader
    weight: float
    top: int | None = None
    zscore: bool = False
    name: str = "reader"


def score_candidates(
    question: str,
    candidates: list[Candidate],
    embeddings: Embeddings,
    lexical_weight: float,
    readers: Sequence[ReaderSignal] = (),
    handoff: float = 0.0,
    idf_from: int | None = None,
) -> np.ndarray:
    """Sets each candidate's signals and combined `score`; returns the unit sentence vectors.

    The score is dense + lexical_weight * lexical, plus each reader's weighted scores; then
    pointers hand their score to what they point to (`hand_off`, `handoff` below their own).
    The lexical idf counts the first `idf_from` candidates (the retrieved ones)."""
    texts = [c.text for c in candidates]
    dense, vectors = dense_scores(question, texts, embeddings)
    lexical = lexical_scores(question, texts, idf_from)
    base = dense + lexical_weight * lexical
    for c, d, lx, s in zip(candidates, dense, lexical, base, strict=True):
        c.dense, c.lexical, c.score = float(d), float(lx), float(s)
    for signal in readers:
        _apply_reader(question, candidates, base, signal)
    if handoff > 0:
        hand_off(candidates, base, handoff)
    return vectors


def _apply_reader(
    question: str, candidates: list[Candidate], base: np.ndarray, signal: ReaderSignal
) -> None:
    if signal.weight <= 0 or (signal.zscore and len(candidates) < 2):
        return
    order = sorted(range(len(candidates)), key=lambda i: -base[i])
    top = order[: signal.top] if signal.top else order
    scores = np.asarray(signal.reader(question, [candidates[i] for i in top]), dtype=np.float64)
    if len(scores) != len(top):
        msg = f"reader {signal.name!r} returned {len(scores)} scores for {len(top)} units"
        raise ValueError(msg)
    if signal.zscore:
        added = on_base_scale(scores, base[top], signal.weight)
    else:
        added = signal.weight * scores
    for i, raw, plus in zip(top, scores, added, strict=True):
        if signal.name == "upr":
            candidates[i].upr = float(raw)
        else:
            candidates[i].reader += float(plus)
            if signal.name.startswith("xlstm"):  # the token reader or the reader head
                candidates[i].xlstm = float(plus)
        candidates[i].score += float(plus)


def hand_off(candidates: list[Candidate], base: np.ndarray, below: float) -> None:
    """A unit that points ("as shown in Table 2", "... as follows:", a heading, a question the
    paper asks itself) hands its base score, less `below`, to what it points to: the rows of
    that table among the candidates, else the next sentence of its document (the fact next
    door). Targets keep their own score when it is higher."""
    at = {(c.doc_index, c.position): i for i, c in enumerate(candidates) if c.kind != "window"}
    for i, c in enumerate(candidates):
        if c.kind == "window" or not _points(c):
            continue
        table = pointed_table(c.text)
        targets = [j for j, t in enumerate(candidates) if table and _in_table(t, table)]
        if not targets and (c.doc_index, c.position + 1) in at:
            targets = [at[(c.doc_index, c.position + 1)]]
        best = max((float(base[j]) for j in targets), default=0.0)
        for j in targets:  # the best-matching target gets the pointer's score, the rest less
            lifted = float(base[i]) - below - (best - float(base[j])) + candidates[j].reader
            candidates[j].score = max(candidates[j].score, lifted)


def _points(candidate: Candidate) -> bool:
    """An announcement, a heading, or a question the paper asks itself (answered next)."""
    text = candidate.text.rstrip()
    return is_announcement(text) or candidate.kind == "heading" or text.endswith("?")


def _in_table(candidate: Candidate, table: str) -> bool:
    return candidate.kind in ("table_row", "table") and table_number(candidate) == table


def select(
    candidates: list[Candidate],
    vectors: np.ndarray,
    n: int,
    margin: float = float("inf"),
    redundancy: float = 0.8,
) -> list[int]:
    """Indices of up to `n` best candidates scoring within `margin` of the best one,
    skipping near-duplicates of those already chosen."""
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == n or candidates[i].score < candidates[order[0]].score - margin:
            break
        if all(_distinct(candidates[i], candidates[j], vectors, i, j, redundancy) for j in chosen):
            chosen.append(i)
    return chosen


def _distinct(
    a: Candidate, b: Candidate, vectors: np.ndarray, i: int, j: int, limit: float
) -> bool:
    """Neither unit quotes the other (a window holds its sentences) nor says nearly the same."""
    if a.text in b.text or b.text in a.text:
        return False
    return float(vectors[i] @ vectors[j]) < limit
