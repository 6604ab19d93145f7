"""The answers on the page: per retriever a bordered column with the answer, its citation chips,
table rows, latency and sources, and the line saying which evidence the retrievers share.

Drawing only: the texts come from `app.ui_evidence`'s plain functions (tested without a page).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.answer import Answer
from app.ui_evidence import (
    answer_display,
    chip,
    cited_pages,
    diff_summary,
    escape_markdown,
    evidence_diff,
    format_ms,
    highlight_html,
    label_of,
    quote_line,
    read_lines,
    row_cells,
    row_label,
    source_citations,
    supporting_quotes,
    titles_of,
)
from retrievers import RETRIEVER_LABELS

BLURBS = {
    "similarity": "top-k chunks by embedding similarity",
    "compression": "only the sentences that pass the similarity threshold",
    "hybrid": "BM25 and dense ranks fused (RRF)",
}


def render_answer(placeholder: Any, answer: Answer) -> None:
    if answer.refused:
        placeholder.info(answer.text, icon=":material/block:")
    else:
        placeholder.markdown(answer_display(answer))


def _color(diff: Any, name: str, key: tuple[str, int], single: bool) -> str:
    """Orange for evidence only this retriever found, blue for shared evidence."""
    return "orange" if not single and diff.only_in(name, key) else "blue"


def render_details(name: str, answer: Answer, diff: Any, single: bool) -> None:
    """Citation chips, latency, and the sources with their supporting sentences."""
    titles = titles_of(answer)
    chips = [
        chip(f"{label_of(p, titles.get(p))} p. {page}", _color(diff, name, (p, page), single))
        for p, page in cited_pages(answer)
    ]
    if chips:
        st.markdown(" ".join(chips))
    render_table_rows(answer)
    ms = answer.latency_ms
    st.caption(
        f":material/timer: {format_ms(ms.get('total'))} · retrieve {format_ms(ms.get('retrieve'))}"
        f" · answer {format_ms(ms.get('generate'))} · {len(answer.sources)} passages"
    )
    with st.expander(f"Sources ({len(answer.sources)})", key=f"sources_{name}"):
        for rank, source in enumerate(answer.sources, start=1):
            key = (source.paper, source.page)
            color = _color(diff, name, key, single)
            tag = " " + chip("only here", "orange") if color == "orange" else ""
            paper = label_of(source.paper, source.title)
            page_chip = chip(f"{paper} p. {source.page}", color)
            st.markdown(f"{rank}. {page_chip} score {source.score:.3f}{tag}")
            body = highlight_html(source.text, supporting_quotes(answer, source))
            st.html(f'<div class="xrag-source">{body}</div>')
            for citation in source_citations(answer, source):
                st.caption(f"quoted: {quote_line(citation)}")
    if answer.read:
        with st.expander(f"Also read ({len(answer.read)})", key=f"read_{name}"):
            st.caption(
                "Quoted from beyond the passages: a chunk beside one, a table row, a list item."
            )
            for line in read_lines(answer):
                st.markdown(line)


def render_table_rows(answer: Answer) -> None:
    """Quoted table rows as a "Table 1, row GPT-3" chip with their page and a one-row table."""
    for citation in answer.citations:
        label = row_label(citation)
        if label is not None:
            paper = label_of(citation.paper, titles_of(answer).get(citation.paper))
            st.markdown(chip(f"{label} · {paper} p. {citation.page}", "violet"))
            st.table(row_cells(citation))


def result_layout(question: str, names: list[str]) -> tuple[Any, dict[str, tuple[Any, Any]]]:
    """The question, a slot for the evidence summary, and per retriever a bordered column with
    a slot for the answer and a container for its details."""
    st.markdown(f"#### {escape_markdown(question)}")
    summary = st.empty()
    slots = {}
    for name, col in zip(names, st.columns(len(names), gap="medium"), strict=True):
        with col.container(border=True, key=f"result_{name}"):
            st.markdown(f"##### {RETRIEVER_LABELS[name]}")
            st.caption(BLURBS.get(name, ""))
            slots[name] = (st.empty(), st.container())
    return summary, slots


def fill_results(summary: Any, slots: dict, answers: dict[str, Answer | None]) -> None:
    """Final answers, citation chips, latencies, sources, and the shared-vs-unique line."""
    done = {n: a for n, a in answers.items() if a is not None}
    diff = evidence_diff(done)
    for name, answer in done.items():
        render_answer(slots[name][0], answer)
        with slots[name][1]:
            render_details(name, answer, diff, len(done) < 2)
    if len(done) > 1:
        titles: dict[str, str | None] = {}
        for answer in done.values():
            titles.update(titles_of(answer))
        summary.markdown(diff_summary(diff, RETRIEVER_LABELS, titles))


def render_results(question: str, names: list[str], answers: dict[str, Answer | None]) -> None:
    """Answers already computed (e.g. after a sidebar click) drawn again, without re-asking."""
    summary, slots = result_layout(question, names)
    for name in names:
        if answers.get(name) is None:
            slots[name][0].error("No answer from this retriever; ask again.")
    fill_results(summary, slots, answers)
