"""List answers: items of an enumeration travel together, and an announced list is completed.

`with_enumeration_siblings` brings the other items of a chosen "Firstly, ... Secondly, ..."
enumeration; `with_announced_items` completes a sentence announcing a list ("... three main
limitations:") with the items in the stored chunks after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.documents import Document

from app.evidence import Candidate
from ingest.sentences import split_sentences

_ORDINAL = re.compile(
    r"^(?:(?P<word>first|second|third|fourth|fifth|sixth)(?:ly)?|(?P<last>finally|lastly))\b",
    re.IGNORECASE,
)
_ORDINAL_RANK = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}


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
