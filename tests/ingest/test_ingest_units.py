"""Unit kinds: every chunk says what it is (text, heading, caption, equation, reference, table…)."""

from __future__ import annotations

from collections import Counter

import pytest

from ingest.chunking import PaperMeta, chunk_pages
from ingest.pdf_text import PageText
from ingest.tables import find_tables
from ingest.units import KINDS, is_equation, page_segments

META = PaperMeta("pid", "paper.pdf", "sha", "A Paper", "2405.04517", 3)


def _page(number: int, blocks: list[str], heading_blocks: set[int], start: str | None = None):
    text = "\n\n".join(blocks)
    offsets, sections, offset = [], [], 0
    for i, block in enumerate(blocks):
        offsets.append(offset)
        if i in heading_blocks:
            sections.append((offset, block))
        offset += len(block) + 2
    return PageText(number, text, None, tuple(sections), start_section=start)


def test_is_equation_tells_maths_from_prose() -> None:
    assert is_equation(
        "ct = ft ct−1 + it zt cell state (2) ht = ot ̃ht , ̃ht = ψ ct hidden state (3)"
    )
    assert not is_equation(
        "The results in Table 1 show that xLSTM outperforms all existing methods."
    )
    assert not is_equation("we use the absolute value, i.e. n = max(|x|, 1), to stabilise the sum.")


def test_page_segments_kinds_and_offsets() -> None:
    page = _page(
        4,
        ["2 Method", "Prose about the method.", "Figure 2: A caption.", "More prose.", "3 Results"],
        {0, 4},
    )
    segments = page_segments(page)
    assert [s.kind for s in segments] == ["text", "caption", "text", "heading"]
    assert segments[0].text == "2 Method\n\nProse about the method."  # the heading opens the text
    for segment in segments:
        assert page.text[segment.start : segment.start + len(segment.text)] == segment.text


def test_chunks_carry_every_kind() -> None:
    table_lines = [
        "Model #Params M PPL ↓",
        "GPT-3 356 14.26",
        "Llama 407 14.25",
        "Table 1: Results.",
    ]
    [table], _ = find_tables(table_lines, page=1)
    pages = [
        _page(1, ["1 Introduction", "Plain prose of the paper. " * 3, "Table 1: Results."], {0}),
        _page(
            2,
            ["ct = ft ct−1 + it zt cell state (2) ht = ot ht (3)", "Closing words.", "References"],
            {2},
        ),
        _page(3, ["A. Author. A paper title. In Proceedings, 2020."], set(), start="References"),
    ]
    docs = chunk_pages(pages, META, 300, 50, [table])
    kinds = Counter(d.metadata["kind"] for d in docs)
    assert set(kinds) == set(KINDS)
    assert kinds["table"] == 1 and kinds["table_row"] == 2
    [row] = [d for d in docs if d.metadata["kind"] == "table_row" and "GPT-3" in d.page_content]
    assert row.page_content == "Table 1 (Results): Model = GPT-3; #Params M = 356; PPL ↓ = 14.26"
    assert row.metadata | {"chunk_id": "", "content_hash": ""} == {
        "source": "paper.pdf", "arxiv_id": "2405.04517", "title": "A Paper", "page": 1,
        "chunk_index": row.metadata["chunk_index"], "content_hash": "", "paper_id": "pid",
        "chunk_id": "", "section": "1 Introduction", "kind": "table_row", "table": 1,
        "table_name": "Table 1", "caption": "Results", "row": "GPT-3",
    }  # fmt: skip
    assert [d.metadata["chunk_index"] for d in docs] == list(range(len(docs)))
    assert len({d.id for d in docs}) == len(docs)


@pytest.mark.integration
def test_xlstm_chunk_kinds(xlstm_content) -> None:
    docs = chunk_pages(xlstm_content.pages, META, 400, 80, xlstm_content.tables)
    kinds = Counter(d.metadata["kind"] for d in docs)
    assert kinds["table"] == 11 + 12 and kinds["table_row"] == 142 + 572  # Table 10: 12 pages
    appendix = {d.metadata["section"] for d in docs if d.metadata.get("table") == 10}
    assert appendix == {"C Detailed Results on PALOMA Language Model Evaluation"}
    assert kinds["text"] > 250 and kinds["reference"] > 50 and kinds["caption"] > 30
    assert kinds["equation"] > 10
    refs = {d.metadata["page"] for d in docs if d.metadata["kind"] == "reference"}
    assert refs == set(range(15, 23))  # the bibliography; the appendix after it is text again
    [eq] = [d for d in docs if d.page_content.startswith("ct = ft ct−1 + it zt cell state (2)")]
    assert eq.metadata["kind"] == "equation"
