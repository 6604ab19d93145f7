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
    own: int = 0,
) -> list[Candidate]:
    """Units of the chunks `steps` away from each of the first `depth` retrieved `docs` and of
    the own chunk of each of the first `own` that is only a part of it (a compression
    retriever's sentence is read in its paragraph, as a retrieved chunk is), that are neither
    retrieved nor candidates yet, marked as coming after the retrieved documents."""
    if chunk_at is None or max(depth, own) <= 0:
        return []
    seen = {c.text.lower() for c in candidates}
    retrieved = {_position(d) for d in docs}
    read: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for i, doc in enumerate(docs[: max(depth, own)]):
        source, index = _position(doc)
        if index < 0 or doc.metadata.get("kind") in _SKIPPED:
            continue
        beside = [(source, index + step) for step in steps if i < depth]
        wanted = [(source, index)] * (i < own) + [p for p in beside if p not in retrieved]
        for position in wanted:
            if position in read:
                continue
            read.add(position)
            near = chunk_at(*position)
            if near is None or near.metadata.get("kind") in _SKIPPED:
                continue
            if position == (source, index) and _flat(near.page_content) == _flat(doc.page_content):
                continue  # the whole chunk was retrieved: its units are candidates already
            doc_index = len(docs) + len(retrieved) + len(read)  # after the retrieved ones
            for at, (text, kind) in enumerate(units_of(near)):
                if text and text.lower() not in seen:
                    seen.add(text.lower())
                    out.append(Candidate(text, doc_index, near.metadata, kind=kind, position=at))
    return out


def _flat(text: str) -> str:
    return " ".join(text.split())


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
    when it completes the sentence with a value (`app.reader.completes_with_number`); for a
    list question, when it enumerates (`app.reader.enumerates`). A whole
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
