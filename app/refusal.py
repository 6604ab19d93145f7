"""When to refuse: a question about something the evidence never names is not answered.

The tests, all on the retrieved evidence:
- support: the best unit's dense + lexical score is below `refusal_threshold` (nothing is
  about the question at all);
- unsupported names: the question names something specific — an acronym, a benchmark, a model
  ("GSM8K", "ImageNet", "BLEU", "kWh") — that no retrieved unit mentions. A topical passage
  about xLSTM's accuracy does not answer "What accuracy does xLSTM get on GSM8K?";
- an unmentioned measure: what the question asks for ("What is the carbon footprint of ...",
  "How much energy ...") is a word or two that the papers it was retrieved from never write;
- an unmentioned value: the question names a value ("at a context length of 32k", "quantized
  to 8-bit") that those papers never write, in any form ("32k", "32768", "32,000");
- names apart: no one of those papers names everything the question names ("What BLEU score
  does xLSTM reach on WMT?": the xLSTM paper names xLSTM, the Transformer paper BLEU and WMT).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from langchain_core.documents import Document

from app.table_cells import model_sizes
from ingest.words import STOP_WORDS, name_key, name_keys, specific_names


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


_AUX = r"(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would)"
# the measure a question asks for: "What is the <carbon footprint> of ...", "What <BLEU score>
# does ...", "How much <energy> in kWh ..."; at most `_MEASURE_WORDS` words, so that a clause
# is never read as one
_MEASURE = (
    re.compile(rf"^(?:what|which)\s+{_AUX}\s+(?:the|a|an)\s+(?P<m>[\w\s-]+?)\s+(?:of|for|in|on)\b"),
    re.compile(rf"^(?:what|which)\s+(?P<m>[\w\s-]+?)\s+{_AUX}\b"),
    re.compile(rf"^how\s+(?:much|many)\s+(?P<m>[\w\s-]+?)\s+(?:{_AUX}|in|of)\b"),
)
_MEASURE_WORDS = 3


def asked_measure(question: str) -> list[str]:
    """The content words of the measure `question` asks for ("carbon", "footprint"); [] when it
    asks for none this reads, for one of more than `_MEASURE_WORDS` words, or for a single
    content word ("What is the goal of ...")."""
    text = " ".join(question.lower().split())
    for pattern in _MEASURE:
        if match := pattern.match(text):
            words = match.group("m").split()
            content = [w for w in words if w not in STOP_WORDS and w.isalpha()]
            # one word ("goal", "role") is too generic to refuse on: "carbon footprint" is not
            return content if len(words) <= _MEASURE_WORDS and len(content) >= 2 else []
    return []


def unmentioned_measure(
    question: str, sources: Sequence[str], mentions: Callable[[str, str], bool]
) -> list[str]:
    """The measure `question` asks for when none of its words occurs in any paper of `sources`
    (singular or plural); [] otherwise."""
    words = asked_measure(question)
    keys = [(name_key(w), name_key(w).removesuffix("s")) for w in words]
    said = any(
        mentions(s, k) or mentions(s, k + "s") for s in sources for pair in keys for k in pair
    )
    return [] if said or not sources else words


# a value the question names: "32k" (context), "8-bit", "1.3B", "0.3"; not a part of a name
# ("GPT-3", "xLSTM[7:1]") or of a number like "4e-4"
_VALUE = re.compile(r"(?<![\w.\[:\-])(\d+(?:\.\d+)?)\s?(k|K|M|B|-bit)?(?![\w\]:])")


def value_keys(number: str, unit: str = "") -> set[str]:
    """Every `name_key` a paper may write a value as: "32k" → {"32k", "32000", "32768"};
    "0.3" → {"03", "030", "0300"} (trailing zeros: "0.30")."""
    digits = number.rstrip("0").rstrip(".") if "." in number else number
    keys = {
        name_key(digits + zeros + unit) for zeros in ("", "0", "00") if "." in digits or not zeros
    }
    if unit.lower() == "k":
        value = float(number)
        keys.add(name_key(f"{value * 1000:.0f}"))
        if value.is_integer() and (int(value) & (int(value) - 1)) == 0:
            keys.add(str(int(value) * 1024))  # 16k = 16384, a power of two
    return keys


def unmentioned_values(
    question: str, sources: Sequence[str], mentions: Callable[[str, str], bool]
) -> list[str]:
    """The values the question names ("at a context length of 32k", "quantized to 8-bit")
    that no paper of `sources` writes in any form: the papers cannot report a result under a
    condition they never state."""
    missing = []
    for match in _VALUE.finditer(question):
        keys = value_keys(match.group(1), match.group(2) or "")
        if not any(mentions(s, k) for s in sources for k in keys):
            missing.append(match.group(0))
    return missing if sources else []


def names_apart(
    question: str, sources: Sequence[str], mentions: Callable[[str, str], bool]
) -> list[str]:
    """The question's specific names that the paper naming most of them lacks, when no paper
    of `sources` names them all ("What BLEU score does xLSTM reach on WMT?" with the xLSTM
    paper and the Transformer paper retrieved: one names xLSTM, the other BLEU and WMT); []
    when one paper names them all, or for fewer than two papers (`unsupported_names` then)."""
    names = list(dict.fromkeys(specific_names(question)))
    if len(sources) < 2 or len(names) < 2:
        return []
    lacking = [[n for n in names if not mentions(s, name_key(n))] for s in sources]
    return min(lacking, key=len)


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
    `docs` nor their papers mention, or (with `mentions`) a measure or a value their papers
    never write, or names that no one of them writes together."""
    if best < threshold:
        return " Nothing retrieved is about it."
    if not names:
        return ""
    sources = sources_of(docs)
    texts = [d.page_content for d in docs]
    if missing := unsupported_names(question, texts, mentions, sources):
        return f" The passages found never mention {', '.join(missing)}."
    if mentions is None:
        return ""
    if measure := unmentioned_measure(question, sources, mentions):
        return f" The papers never mention {' '.join(measure)}."
    if values := unmentioned_values(question, sources, mentions):
        return f" The papers never mention {', '.join(values)}."
    if apart := names_apart(question, sources, mentions):
        return f" No paper found mentions {', '.join(apart)} with the rest of the question."
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
