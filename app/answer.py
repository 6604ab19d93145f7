"""Answer a question from retrieved evidence, every sentence citing its page.

`answer_question` is the plain function the CLI, the UI (which streams the text through
`on_text`) and the evaluation all call. Modes:
- "extractive-xlstm" (default): evidence units chosen by dense + lexical scores and the readers,
  the locally trained xLSTM among them (its token reader, `app.reader_signals`), composed into
  an answer that cites "[xLSTM, p. 9]";
- "extractive": the same without the xLSTM (a baseline, and the fallback of the evaluation when
  no model is trained);
- "free-generation": the xLSTM writes freely from the evidence; exploratory, not grounded.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document

from app.answer_settings import MODES, SHORT_SOURCES, UPR_SIGNALS, AnswerSettings
from app.compose import Citation, compose, is_list_question, within_words
from app.errors import UserError
from app.evidence import (
    Candidate,
    candidates_from,
    score_candidates,
    select,
    table_candidates,
)
from app.generator import AnswerGenerator
from app.lists import with_announced_items, with_enumeration_siblings
from app.neighbours import neighbour_candidates, next_sentence_windows
from app.reader import answer_type, completes_with_number, enumerates, gives_reason
from app.reader_signals import reader_signals
from app.refusal import refusal_reason, sources_of, unreported_rows, unreported_sizes
from app.short_answer import ShortAnswer
from app.short_source import cut_short_answer
from app.table_extremes import extreme_short
from app.table_lookup import (
    expand_acronyms,
    paper_acronyms,
    reported_elsewhere,
    table_text,
    tables_asked,
)
from app.validation import check_question

REFUSAL = "The ingested papers do not answer this question."
# How the answer should look, not what it is about: kept out of retrieval and evidence scoring.
_FORMAT_SENTENCE = re.compile(
    r"^(please\s+)?(answer|respond|reply|write|use|give|format|keep)\b.*"
    r"\b(bullets?|bullet[- ]points?|list|briefly|brief|short|sentences?|words|format)\b",
    re.IGNORECASE,
)
_FORMAT_PHRASE = re.compile(
    r",?\s*\b(in|as|with|using)\s+(a\s+)?"
    r"(bulleted\s+list|bullet[- ]points?|bullets|list\s+form|list)(?=\s*[.?!]?$)",
    re.IGNORECASE,
)


def content_query(question: str) -> str:
    """The question without answer-format instructions ("Answer in bullet points."), which
    would otherwise pull format words into BM25 and the embeddings; unchanged if nothing else
    would remain."""
    sentences = re.split(r"(?<=[.?!])\s+", question.strip())
    kept = [_FORMAT_PHRASE.sub("", x) for x in sentences if not _FORMAT_SENTENCE.match(x)]
    query = " ".join(x.strip() for x in kept if x.strip())
    return query or question


@dataclass
class Source:
    paper: str
    page: int
    score: float
    text: str
    chunk_id: str = ""
    arxiv_id: str | None = None
    title: str | None = None


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    mode: str
    citations: list[Citation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    groundedness: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    short_answer: str | None = None  # "14.26 — GPT-3, Table 1, ...", cut from the first quote
    short_answer_by: str | None = None  # who cut it: "rules", "phrase", "xlstm" (app.short_source)
    # stored units quoted from beyond the retrieved documents: the chunks beside them, the rows
    # of the tables they name, the items of a list they announce
    read: list[Source] = field(default_factory=list)


def sources_from(docs: list[Document]) -> list[Source]:
    return [
        Source(
            paper=str(d.metadata.get("source", "")),
            page=int(d.metadata.get("page", 0) or 0),
            score=float(d.metadata.get("score", 0.0)),
            text=d.page_content,
            chunk_id=str(d.metadata.get("chunk_id", d.id or "")),
            arxiv_id=d.metadata.get("arxiv_id"),
            title=d.metadata.get("title"),
        )
        for d in docs
    ]


def read_beyond(units: list[Candidate], sources: list[Source]) -> list[Source]:
    """The quoted `units` that no retrieved source holds, as sources of their own."""
    held = [" ".join(s.text.split()) for s in sources]
    beyond = [u for u in units if not any(u.text in text for text in held)]
    return sources_from(
        [Document(page_content=u.text, metadata={**u.metadata, "score": 0.0}) for u in beyond]
    )


def answer_question(
    question: str,
    retriever: Any,
    generator: AnswerGenerator,
    settings: AnswerSettings,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """The answer to `question` from what `retriever` finds; `on_text` (if given) receives the
    answer text in pieces as it is produced, e.g. to stream it into a UI."""
    if settings.mode not in MODES:
        raise UserError(f"unknown answer mode {settings.mode!r}; choose one of {', '.join(MODES)}")
    if settings.upr_signal not in UPR_SIGNALS:
        msg = f"unknown upr_signal {settings.upr_signal!r}; choose one of {', '.join(UPR_SIGNALS)}"
        raise UserError(msg)
    if settings.short_source not in SHORT_SOURCES:
        choices = ", ".join(SHORT_SOURCES)
        raise UserError(f"unknown short_source {settings.short_source!r}; choose one of {choices}")
    question = check_question(question)
    if settings.mode != "extractive":
        generator.require_model()
    query = content_query(question)
    t0 = time.perf_counter()
    docs = retriever.invoke(query)
    t1 = time.perf_counter()
    answer = Answer(question=question, text="", refused=False, mode=settings.mode)
    answer.sources = sources_from(docs)
    if settings.mode == "free-generation":
        pieces = _free_generation(answer, docs, generator, settings)
    else:
        pieces = _extractive(answer, query, docs, generator, settings)
    for piece in pieces:
        if on_text is not None:
            on_text(piece)
    t2 = time.perf_counter()
    answer.latency_ms = {
        "retrieve": round((t1 - t0) * 1000, 1),
        "generate": round((t2 - t1) * 1000, 1),
        "total": round((t2 - t0) * 1000, 1),
    }
    return answer


def _extractive(
    answer: Answer,
    query: str,
    docs: list[Document],
    generator: AnswerGenerator,
    settings: AnswerSettings,
) -> Iterator[str]:
    """Evidence sentences scored against `query` (the question without format instructions);
    the full question still decides whether the answer is a list."""
    follows = _windows_wanted(query, settings)
    candidates = candidates_from(docs, follows=follows)
    if not candidates:
        answer.text, answer.refused = REFUSAL, True
        yield REFUSAL
        return
    retrieved = len(candidates)
    sources = sources_of(docs)
    if settings.expand_acronyms:
        query = expand_acronyms(query, paper_acronyms(sources, generator.acronyms))
    asked: list[tuple[str, int]] = []  # tables the question asks about by name
    if settings.read_tables:  # rows of the tables the evidence names (the fact next door)
        if settings.lookup_tables and generator.tables is not None:
            asked = tables_asked(query, sources, generator.tables, generator.table_rows)
        candidates += table_candidates(candidates, generator.table_rows, len(docs), asked=asked)
    candidates += neighbour_candidates(
        candidates, docs, generator.chunk, settings.neighbours, own=settings.sentence_chunks
    )
    if follows is not None:  # a retrieved sentence's reason or value may follow it
        candidates += next_sentence_windows(candidates, docs, generator.chunk, follows)
    vectors = score_candidates(
        query,
        candidates,
        generator.embeddings,
        settings.lexical_weight,
        readers=reader_signals(settings, generator),
        handoff=settings.handoff,
        idf_from=retrieved,
    )
    # refusal reads single units: a window's score repeats its sentences'
    best = max(
        c.dense + settings.lexical_weight * c.lexical
        for c in candidates
        if c.kind != "window" and c.doc_index < len(docs)  # retrieved units only
    )
    why = refusal_reason(
        query, docs, best, settings.refusal_threshold, generator.mentions, settings.refuse_unnamed
    )
    if why:
        answer.text, answer.refused = REFUSAL + why, True
        yield answer.text
        return
    listed = is_list_question(answer.question)
    if listed:  # a list needs its items, however they score
        items = [c if not c.text.endswith(":") else _demoted(c) for c in candidates]
        picked = select(items, vectors, settings.list_items, settings.list_margin)
        picked = with_enumeration_siblings(candidates, picked, settings.list_items + 2)
    else:
        picked = select(candidates, vectors, settings.max_sentences, settings.margin)
    ranked = [candidates[i] for i in sorted(picked, key=lambda i: -candidates[i].score)]
    short = None
    if settings.short_answer and settings.read_tables and not listed:  # "which is highest"
        tables, rows = generator.tables, generator.table_rows
        short = extreme_short(query, sources, tables, rows, len(docs), scored=candidates)
    short = short or cut_short_answer(query, ranked, candidates, settings)
    if short is not None and listed and short.by == "phrase":
        short = None  # a list opens with its items, not with one phrase
    if short is not None and reported_elsewhere(short, asked, generator.table_rows):
        short = None  # its closest row is of the wrong table: quote the evidence, cut nothing
    if short is not None and (why := _unreported(query, short, sources, generator, settings)):
        answer.text, answer.refused = REFUSAL + why, True
        yield answer.text
        return
    if short is not None:  # the units it was cut from are quoted first
        others = [c for c in ranked if all(c is not u for u in short.units)]
        support = settings.short_support if short.by == "rules" else len(others)
        ranked = [*short.units, *others[:support]]
        answer.short_answer, answer.short_answer_by = short.text, short.by
    chosen = with_announced_items(ranked, generator.chunk)
    budget = settings.max_words - len((answer.short_answer or "").split())
    chosen = within_words(chosen, budget, answer.question)
    answer.text, answer.citations = compose(answer.question, chosen, answer.short_answer)
    answer.read = read_beyond(chosen, answer.sources)
    answer.groundedness = 1.0  # every sentence is quoted from the papers (retrieved evidence, or
    # the stored chunks completing an announced list)
    yield from answer.text.splitlines(keepends=True)


def _windows_wanted(question: str, settings: AnswerSettings) -> Callable[[str], bool] | None:
    """Which next sentences a sentence is also read with: the reason after it for a "why"
    question, a value completing it for a number question, an enumeration for a list
    question; None for other questions."""
    wanted = answer_type(question)
    if settings.reason_windows and wanted == "reason":
        return gives_reason
    if settings.number_windows and wanted == "number":
        return functools.partial(completes_with_number, question)
    if settings.list_windows and wanted == "list":
        return enumerates
    return None


def _unreported(
    query: str,
    short: ShortAnswer,
    sources: list[str],
    generator: AnswerGenerator,
    settings: AnswerSettings,
) -> str:
    """The refusal reason when the short answer's closest row stands in for a model that no
    table of the papers reports ("" otherwise, or with `refuse_missing_row` off)."""
    if not (settings.refuse_missing_row and short.missing):
        return ""
    tables = table_text(sources, generator.tables, generator.table_rows)
    if why := unreported_rows(query, short.missing, tables):
        return why
    unit = short.units[0]  # its table must report the asked size
    source, table = str(unit.metadata.get("source", "")), unit.metadata.get("table")
    rows = generator.table_rows(source, int(table)) if table and generator.table_rows else []
    label = str(unit.metadata.get("table_name") or f"Table {table}")
    return unreported_sizes(short.missing, label, [r.page_content for r in rows]) if rows else ""


def _demoted(candidate: Candidate) -> Candidate:
    """A sentence that only announces a list ("... three main limitations:") is no list item."""
    return dataclasses.replace(candidate, score=candidate.score - 1.0)


def _free_generation(
    answer: Answer, docs: list[Document], generator: AnswerGenerator, settings: AnswerSettings
) -> Iterator[str]:
    from app.metrics import grounded

    context_docs = docs[: max(1, settings.k)]
    pieces = []
    for piece in generator.generate(answer.question, context_docs, settings.max_new_tokens):
        pieces.append(piece)
        yield piece
    answer.text = "".join(pieces).strip()
    answer.citations = [
        Citation(str(d.metadata.get("source", "")), int(d.metadata.get("page", 0)), "")
        for d in context_docs
    ]
    answer.groundedness = grounded(answer.text, [d.page_content for d in docs])


def extractive_baseline(question: str, sources: list[Source], method: str, embeddings: Any) -> str:
    """Baselines that show what the xLSTM adds: one retrieved sentence, uncomposed.

    "first": the first sentence of the top-ranked source; "embedding": the retrieved sentence
    most similar to the question by the store's embeddings.
    """
    docs = [Document(page_content=s.text) for s in sources]
    candidates = candidates_from(docs)
    if not candidates:
        return ""
    if method == "first":
        return candidates[0].text
    if method == "embedding":
        score_candidates(question, candidates, embeddings, lexical_weight=0.0)
        return max(candidates, key=lambda c: c.dense).text
    raise ValueError(f"unknown baseline {method!r}; choose 'first' or 'embedding'")
