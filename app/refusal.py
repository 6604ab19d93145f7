"""When to refuse: a question about something the evidence never names is not answered.

Two tests, both on the retrieved evidence:
- support: the best unit's dense + lexical score is below `refusal_threshold` (nothing is
  about the question at all);
- unsupported names: the question names something specific — an acronym, a benchmark, a model
  ("GSM8K", "ImageNet", "BLEU", "kWh") — that no retrieved unit mentions. A topical passage
  about xLSTM's accuracy does not answer "What accuracy does xLSTM get on GSM8K?".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.documents import Document

from app.short_answer import model_sizes
from ingest.words import name_key, name_keys, specific_names


def unsupported_names(
    question: str,
    texts: Sequence[str],
    mentions: Callable[[str, str], bool] | None = None,
    sources: Sequence[str] = (),
) -> list[str]:
    """The question's specific names that none of `texts` mentions (compared without case,
    hyphens or brackets) and, with `mentions(source, key)`, no paper of `sources` either: a
    name the retrieval missed but the paper holds is a retrieval miss, not a reason to refuse."""
    said = set().union(*(name_keys(text) for text in texts))
    missing = [n for n in specific_names(question) if name_key(n) not in said]
    if mentions is not None:
        missing = [n for n in missing if not any(mentions(s, name_key(n)) for s in sources)]
    return missing


def sources_of(docs: Sequence[Document]) -> list[str]:
    """The paper files of `docs`, in retrieval order."""
    return list(dict.fromkeys(str(d.metadata.get("source", "")) for d in docs))


def refusal_reason(
    question: str,
    docs: Sequence[Document],
    best: float,
    threshold: float,
    mentions: Callable[[str, str], bool] | None = None,
    names: bool = True,
) -> str:
    """Why the evidence cannot answer, to follow the refusal ("" when it may answer): nothing
    matches well enough, or (`names`) the question names something neither the retrieved
    `docs` nor their papers mention."""
    if best < threshold:
        return " Nothing retrieved is about it."
    texts = [d.page_content for d in docs]
    missing = unsupported_names(question, texts, mentions, sources_of(docs)) if names else []
    if missing:
        return f" The passages found never mention {', '.join(missing)}."
    return ""


def unreported_rows(question: str, missing: Sequence[str], tables: str) -> str:
    """Why to refuse a table answer ("" when not): the closest row lacks a model the question
    names ("xLSTM[1:1]", `missing`) and no table of the paper writes it (`tables`: their text
    as `app.table_lookup.table_text` gives it), so the value asked for is not reported; the
    answer never passes a neighbour's value off as it."""
    named = {name_key(n) for n in specific_names(question)}
    absent = [n for n in missing if name_key(n) in named and name_key(n) not in tables]
    return f" No table of the paper has a row for {', '.join(absent)}." if absent else ""


def unreported_sizes(missing: Sequence[str], table: str, rows: Sequence[str]) -> str:
    """Why to refuse a table answer for a model size ("2.7B", in `missing`) that no row of the
    answering `table` reports ("" when one does): the 1.3B model's value is no answer for 2.7B."""
    reported = {size for row in rows for size in model_sizes(row)}
    absent = [m for m in missing if model_sizes(m) == [m] and m not in reported]
    return f" {table} reports no {', '.join(absent)} model." if absent else ""
