"""The fact next door: units of the stored chunks beside the retrieved ones.

A retrieved chunk often stops just before the sentence that answers: the definition follows
its heading, the value follows "we use". The answer path also reads the chunks right after
(and before) the best retrieved ones, scored like every other unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.documents import Document

from app.evidence import Candidate, units_of, window_of
from app.reader import gives_reason

ChunkAt = Callable[[str, int], Document | None]
_SKIPPED = ("reference", "table", "table_row")  # bibliography; tables come by number instead


def neighbour_candidates(
    candidates: Sequence[Candidate],
    docs: Sequence[Document],
    chunk_at: ChunkAt | None,
    depth: int,
    steps: Sequence[int] = (1, -1),
) -> list[Candidate]:
    """Units of the chunks `steps` away from each of the first `depth` retrieved `docs`, that
    are neither retrieved nor candidates yet, marked as coming after the retrieved documents."""
    if chunk_at is None or depth <= 0:
        return []
    seen = {c.text.lower() for c in candidates}
    taken = {_position(d) for d in docs}
    out: list[Candidate] = []
    for doc in docs[:depth]:
        source, index = _position(doc)
        if index < 0 or doc.metadata.get("kind") in _SKIPPED:
            continue
        for step in steps:
            if (source, index + step) in taken:
                continue
            taken.add((source, index + step))
            near = chunk_at(source, index + step)
            if near is None or near.metadata.get("kind") in _SKIPPED:
                continue
            doc_index = len(docs) + 1 + len(taken)  # after the retrieved ones, one per chunk
            for position, (text, kind) in enumerate(units_of(near)):
                if text and text.lower() not in seen:
                    seen.add(text.lower())
                    out.append(
                        Candidate(text, doc_index, near.metadata, kind=kind, position=position)
                    )
    return out


def _position(doc: Document) -> tuple[str, int]:
    return str(doc.metadata.get("source", "")), int(doc.metadata.get("chunk_index", -1))


def next_sentence_windows(
    candidates: Sequence[Candidate],
    docs: Sequence[Document],
    chunk_at: ChunkAt | None,
    follows: Callable[[str], bool] = gives_reason,
) -> list[Candidate]:
    """Each retrieved sentence (a compression retriever's unit) read with the sentence after it
    in its stored chunk, when `follows` accepts that one: for a "why" question, when it gives
    the reason ("... power-law distribution. This is motivated by ..."); for a number question,
    when it completes the sentence with a value (`app.reader.completes_with_number`). A whole
    retrieved chunk has these windows already (`candidates_from(..., follows=...)`)."""
    if chunk_at is None:
        return []
    seen = {c.text.lower() for c in candidates}
    out: list[Candidate] = []
    for i, doc in enumerate(docs):
        units = units_of(doc)
        source, index = _position(doc)
        if len(units) != 1 or units[0][1] != "text" or index < 0:
            continue
        chunk = chunk_at(source, index)
        texts = [" ".join(t.split()) for t, _ in units_of(chunk)] if chunk is not None else []
        sentence = " ".join(units[0][0].split())
        at = texts.index(sentence) if sentence in texts else len(texts)
        after = texts[at + 1] if at + 1 < len(texts) else ""
        window = follows(after) and window_of(sentence, after, i, doc.metadata, at, seen)
        if window:
            out.append(window)
    return out
