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

from ingest.sentences import split_sentences
from retrievers.hybrid import bm25_tokens

_ORDINAL = re.compile(
    r"^(?:(?P<word>first|second|third|fourth|fifth|sixth)(?:ly)?|(?P<last>finally|lastly))\b",
    re.IGNORECASE,
)
_ORDINAL_RANK = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}


@dataclass
class Candidate:
    text: str
    doc_index: int  # which retrieved document it came from (0 = best ranked)
    metadata: dict
    dense: float = 0.0
    lexical: float = 0.0
    upr: float = 0.0
    score: float = 0.0


def candidates_from(docs: Sequence[Document], max_candidates: int = 60) -> list[Candidate]:
    """Unique sentences of the retrieved documents, in retrieval order."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for i, doc in enumerate(docs):
        for sentence in split_sentences(doc.page_content) or [doc.page_content.strip()]:
            key = sentence.lower()
            if sentence and key not in seen:
                seen.add(key)
                out.append(Candidate(sentence, i, doc.metadata))
    return out[:max_candidates]


def lexical_scores(question: str, texts: Sequence[str]) -> np.ndarray:
    """Idf-weighted share of the question's content tokens found in each text, in [0, 1]."""
    q_tokens = set(bm25_tokens(question))
    if not q_tokens or not texts:
        return np.zeros(len(texts))
    token_sets = [set(bm25_tokens(t)) for t in texts]
    n = len(texts)
    weight = {t: math.log(1 + n / (1 + sum(t in s for s in token_sets))) for t in q_tokens}
    total = sum(weight.values()) or 1.0
    return np.array([sum(weight[t] for t in q_tokens & s) / total for s in token_sets])


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


def score_candidates(
    question: str,
    candidates: list[Candidate],
    embeddings: Embeddings,
    lexical_weight: float,
    upr_fn: Callable[[str, list[str]], list[float]] | None = None,
    upr_weight: float = 0.0,
    upr_top: int = 12,
) -> np.ndarray:
    """Sets each candidate's signals and combined `score`; returns the unit sentence vectors."""
    texts = [c.text for c in candidates]
    dense, vectors = dense_scores(question, texts, embeddings)
    lexical = lexical_scores(question, texts)
    base = dense + lexical_weight * lexical
    for c, d, lx, s in zip(candidates, dense, lexical, base, strict=True):
        c.dense, c.lexical, c.score = float(d), float(lx), float(s)
    if upr_fn is not None and upr_weight > 0 and len(candidates) > 1:
        top = sorted(range(len(candidates)), key=lambda i: -base[i])[:upr_top]
        upr = np.asarray(upr_fn(question, [texts[i] for i in top]), dtype=np.float64)
        spread = float(base[top].std()) or 1.0
        for i, u, z in zip(top, upr, zscore(upr), strict=True):
            candidates[i].upr = float(u)
            candidates[i].score += upr_weight * spread * float(z)
    return vectors


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
        if all(float(vectors[i] @ vectors[j]) < redundancy for j in chosen):
            chosen.append(i)
    return chosen


def enumeration_rank(text: str) -> int | None:
    """1 for "Firstly, ...", 2 for "Second, ...", ..., 99 for "Finally, ..."; None otherwise."""
    match = _ORDINAL.match(text)
    if match is None:
        return None
    return 99 if match["last"] else _ORDINAL_RANK[match["word"].lower()]


def with_enumeration_siblings(
    candidates: list[Candidate], picked: list[int], limit: int
) -> list[int]:
    """`picked` where every chosen enumeration item ("Secondly, ...") brings the other items of
    its enumeration (same paper and page: "Firstly, ...", "Finally, ...") next to it, in order.

    Papers list their contributions across sentences; a list answer that quotes only the second
    item misses the first. At most `limit` indices are returned.
    """
    out: list[int] = []
    for i in picked:
        if i in out:
            continue
        if enumeration_rank(candidates[i].text) is None:
            out.append(i)
            continue
        ranks = {
            j: r
            for j, c in enumerate(candidates)
            if _same_page(c, candidates[i]) and (r := enumeration_rank(c.text)) is not None
        }
        out.extend(j for j in sorted(ranks, key=ranks.get) if j not in out)
    return out[:limit]


def _same_page(a: Candidate, b: Candidate) -> bool:
    keys = ("source", "page")
    return all(a.metadata.get(k) == b.metadata.get(k) for k in keys)


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}
ChunkLookup = Callable[[str, int], Document | None]  # (source, chunk_index) -> stored chunk


def announced_items(
    candidate: Candidate, chunk: ChunkLookup, limit: int = 3, max_chunks: int = 6
) -> list[Candidate]:
    """The items that complete a sentence announcing a list ("LSTMs have three main
    limitations:"), read from the stored chunks after it: as many as it counts ("three"), else
    `limit`. When the first sentence after it is marked ("(i) ..."), only marked sentences are
    items (papers explain each item before the next); otherwise the next sentences are.
    None when the sentence announces nothing."""
    if not candidate.text.rstrip().endswith(":"):
        return []
    words = re.findall(r"[a-z]+", candidate.text.lower())
    wanted = next((_COUNT_WORDS[w] for w in words if w in _COUNT_WORDS), limit)
    items: list[Candidate] = []
    marked: bool | None = None
    for text, metadata in _sentences_after(candidate, chunk, max_chunks):
        if marked is None:
            marked = bool(_ITEM_START.match(text))
        if not marked or _ITEM_START.match(text):
            items.append(Candidate(text, candidate.doc_index, metadata))
        if len(items) == wanted:
            break
    return items


def _sentences_after(candidate: Candidate, chunk: ChunkLookup, max_chunks: int):
    """(sentence, its chunk's metadata) after the candidate in the stored paper, in order."""
    source, index = candidate.metadata.get("source"), candidate.metadata.get("chunk_index")
    if source is None or index is None:
        return
    here = chunk(str(source), int(index))
    if here is None or (at := here.page_content.find(candidate.text)) < 0:
        return
    previous = here.page_content
    yield from ((s, here.metadata) for s in _items(previous[at + len(candidate.text) :]))
    for step in range(1, max_chunks + 1):
        following = chunk(str(source), int(index) + step)
        if following is None:
            return
        rest = after_overlap(previous, following.page_content)
        yield from ((s, following.metadata) for s in _items(rest))
        previous = following.page_content


_ITEM_MARK = re.compile(r"\s+(?=\((?:ii|iii|iv|v|vi|[2-6]|[b-f])\)\s)")
_ITEM_START = re.compile(r"^\((?:i|ii|iii|iv|v|vi|[1-6]|[a-f])\)\s")


def _items(text: str) -> list[str]:
    """Sentences, with "(i) ... (ii) ..." enumerations inside one sentence split per item."""
    return [part for s in split_sentences(text) for part in _ITEM_MARK.split(s) if part.strip()]


def after_overlap(previous: str, text: str, max_overlap: int = 400) -> str:
    """`text` without its longest start that `previous` ends with (chunks overlap)."""
    for n in range(min(len(previous), len(text), max_overlap), 0, -1):
        if previous.endswith(text[:n]):
            return text[n:]
    return text


def with_announced_items(chosen: list[Candidate], chunk: ChunkLookup | None) -> list[Candidate]:
    """`chosen` with every list-announcing sentence followed by the items it announces, so an
    answer never stops at "... three main limitations:"."""
    if chunk is None:
        return chosen
    out: list[Candidate] = []
    for c in chosen:
        out.append(c)
        seen = {x.text for x in out} | {x.text for x in chosen}
        out += [item for item in announced_items(c, chunk) if item.text not in seen]
    return out
