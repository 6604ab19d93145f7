"""Pure helpers for the UI: safe Markdown/HTML, citation chips, highlighted sentences, and where
the retrievers' evidence agrees or differs. No Streamlit calls here, so they are unit-testable."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.answer import Answer, Source
from app.compose import Citation, paper_label
from app.table_cells import parse_row

PageKey = tuple[str, int]  # (paper file name, page)

_CITATION = re.compile(r"\[([^\[\]\n]{1,60}), p\. (\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}<>#|~$])")
_BADGE_UNSAFE = re.compile(r"[\[\]\\`*_$:]")


def escape_markdown(text: str) -> str:
    """Text shown literally by `st.markdown` ("$" no maths, "*" no emphasis); keeps "- " bullets."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def chip(label: str, color: str = "blue") -> str:
    """A Streamlit Markdown badge, e.g. ':blue-badge[xLSTM p. 9]'."""
    return f":{color}-badge[{_BADGE_UNSAFE.sub(' ', label).strip()}]"


def answer_markdown(text: str) -> str:
    """The answer as Markdown: literal text, its "[xLSTM, p. 9]" citations as gray chips."""
    out, last = [], 0
    for match in _CITATION.finditer(text):
        out.append(escape_markdown(text[last : match.start()]))
        out.append(chip(f"{match.group(1)} p. {match.group(2)}", "gray"))
        last = match.end()
    out.append(escape_markdown(text[last:]))
    return "".join(out)


def answer_display(answer: Answer) -> str:
    """The answer as Markdown, its short answer (when it has one) in bold on the first line,
    marked when the xLSTM token reader cut it (`short_source`) or it is the phrase the best
    quote adds to the question (`app.short_answer.phrase_answer`)."""
    short = answer.short_answer
    if not short or not answer.text.startswith(short):
        return answer_markdown(answer.text)
    rest = answer.text[len(short) :].lstrip("\n")
    by = _SHORT_BY.get(answer.short_answer_by or "", "")
    return f"**{escape_markdown(short)}**{by}\n\n{answer_markdown(rest)}"


_SHORT_BY = {"xlstm": " *(the xLSTM's span)*", "phrase": " *(what the best quote adds)*"}


def row_label(citation: Citation) -> str | None:
    """ "Table 1, row GPT-3" for a quoted table row; None for any other quote."""
    parsed = parse_row(citation.quote) if citation.kind == "table_row" else None
    if parsed is None:
        return None
    table, _, cells = parsed
    return f"{table}, row {cells[0][1]}"


def row_cells(citation: Citation) -> dict[str, list[str]] | None:
    """A quoted table row as a one-row table (column → [value]) for `st.table`; else None."""
    parsed = parse_row(citation.quote) if citation.kind == "table_row" else None
    return {column or "row": [value] for column, value in parsed[2]} if parsed else None


def quote_line(citation: Citation) -> str:
    """How the readers scored a quote: "score 0.812 · reader +0.050 (xLSTM +0.041, span
    “14.26”) · table_row" (the xLSTM's part and the span it chose, when it read the quote)."""
    span = f", span “{citation.span}”" if citation.span else ""
    xlstm = f" (xLSTM {citation.xlstm:+.3f}{span})" if citation.xlstm else ""
    return f"score {citation.score:.3f} · reader {citation.reader:+.3f}{xlstm} · {citation.kind}"


def source_citations(answer: Answer, source: Source) -> list[Citation]:
    """The answer's quotes found in this source's text (same page)."""
    flat = _normalise(source.text)
    return [
        c
        for c in answer.citations
        if (c.paper, c.page) == (source.paper, source.page) and _normalise(c.quote)[:60] in flat
    ]


def read_lines(answer: Answer) -> list[str]:
    """One Markdown line per unit the answer quoted from beyond its retrieved passages (the
    chunk beside one, a table's row, a list's item): its page chip, then the quote."""
    return [
        f"{chip(f'{label_of(u.paper, u.title)} p. {u.page}', 'gray')} {escape_markdown(u.text)}"
        for u in answer.read
    ]


def titles_of(answer: Answer) -> dict[str, str | None]:
    """Paper file name → title, from the answer's sources."""
    return {s.paper: s.title for s in answer.sources}


def label_of(paper: str, title: str | None) -> str:
    """The short paper name used in chips ("xLSTM")."""
    return paper_label({"title": title or "", "source": paper})


def cited_pages(answer: Answer) -> list[PageKey]:
    """Pages the answer cites, in first-cited order, without repeats."""
    seen: dict[PageKey, None] = {}
    for c in answer.citations:
        seen.setdefault((c.paper, c.page), None)
    return list(seen)


def source_pages(answer: Answer) -> list[PageKey]:
    seen: dict[PageKey, None] = {}
    for s in answer.sources:
        seen.setdefault((s.paper, s.page), None)
    return list(seen)


@dataclass
class EvidenceDiff:
    """Which retrieved pages all retrievers found, and which only one of them found."""

    shared: list[PageKey] = field(default_factory=list)
    unique: dict[str, list[PageKey]] = field(default_factory=dict)  # retriever → its own pages

    def only_in(self, name: str, key: PageKey) -> bool:
        return key in self.unique.get(name, [])


def evidence_diff(answers: Mapping[str, Answer]) -> EvidenceDiff:
    """Compares the pages each retriever handed to the answer generator."""
    pages = {name: source_pages(a) for name, a in answers.items()}
    if not pages:
        return EvidenceDiff()
    common = set.intersection(*(set(p) for p in pages.values()))
    every = [key for p in pages.values() for key in p]
    shared = sorted(common, key=every.index)
    found_by = {key: sum(key in p for p in pages.values()) for key in every}
    unique = {name: [k for k in p if found_by[k] == 1] for name, p in pages.items()}
    return EvidenceDiff(shared=shared, unique=unique)


def pages_text(keys: Iterable[PageKey], titles: Mapping[str, str | None]) -> str:
    """ "xLSTM p. 2, 4; Mamba p. 7" — pages grouped by paper."""
    grouped: dict[str, list[int]] = {}
    for paper, page in keys:
        grouped.setdefault(paper, []).append(page)
    parts = [
        f"{label_of(paper, titles.get(paper))} p. {', '.join(str(p) for p in sorted(pages))}"
        for paper, pages in grouped.items()
    ]
    return "; ".join(parts) or "none"


def diff_summary(diff: EvidenceDiff, labels: Mapping[str, str], titles: Mapping) -> str:
    """One Markdown line: shared pages, then (orange) the pages only one retriever found."""
    shared = "shared by all" if len(diff.unique) > 2 else "shared"
    parts = [f"**Evidence** · {shared}: {escape_markdown(pages_text(diff.shared, titles))}"]
    for name, keys in diff.unique.items():
        if keys:
            only = escape_markdown(pages_text(keys, titles))
            parts.append(f"{chip('only ' + labels.get(name, name), 'orange')} {only}")
    return " · ".join(parts)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def highlight_html(text: str, quotes: Iterable[str]) -> str:
    """`text` as escaped HTML with every quoted sentence it contains wrapped in <mark>."""
    flat = _normalise(text)
    spans = []
    for quote in {_normalise(q) for q in quotes if q and q.strip()}:
        start = flat.find(quote)
        if start >= 0:
            spans.append((start, start + len(quote)))
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(html.escape(flat[last:start]))
        out.append(f"<mark>{html.escape(flat[start:end])}</mark>")
        last = end
    out.append(html.escape(flat[last:]))
    return "".join(out)


def supporting_quotes(answer: Answer, source: Source) -> list[str]:
    """The answer's quotes that come from this source's page."""
    return [c.quote for c in answer.citations if (c.paper, c.page) == (source.paper, source.page)]


def format_ms(ms: float | None) -> str:
    """850.2 → "850 ms"; 9907 → "9.9 s"."""
    if ms is None:
        return "–"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def format_count(n: float | int | None) -> str:
    """3_210_000 → "3.21 M"; None → "–"."""
    if n is None:
        return "–"
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:g}"
