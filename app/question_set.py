"""The question set: one JSON object per line, checked with line numbers on error.

Fields: `id`, `question` (required), `reference_answer`, `evidence` ([{"paper", "page"}], pages
1-based physical PDF pages), `answerable`, `type`, `key_terms` (facts a good answer states,
e.g. ["matrix memory"]), `split` ("dev": tune on these; "test": report these, never tune on
them); unknown fields are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UserError

DEFAULT_QUESTIONS = Path(__file__).with_name("questions") / "xlstm_v2.jsonl"
QUESTION_TYPES = ("factoid", "numeric", "list", "why", "unanswerable")
SPLITS = ("dev", "test")


@dataclass
class Question:
    id: str
    question: str
    reference_answer: str = ""
    evidence: list[dict] = field(default_factory=list)
    answerable: bool = True
    type: str = "factoid"
    key_terms: list[str] = field(default_factory=list)
    split: str | None = None  # "dev", "test" or None (in no split)

    def papers(self) -> tuple[str, ...]:
        """The papers its evidence names, in order, each once."""
        return tuple(dict.fromkeys(item["paper"] for item in self.evidence))


def _check_type(value: Any, kind: type | tuple[type, ...], name: str, where: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"{where}: field {name!r} must be {getattr(kind, '__name__', kind)}, got {value!r}"
        raise UserError(msg)


def _parse_evidence(items: Any, where: str) -> list[dict]:
    _check_type(items, list, "evidence", where)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise UserError(f"{where}: each evidence entry must be an object, got {item!r}")
        _check_type(item.get("paper"), str, "evidence.paper", where)
        _check_type(item.get("page"), int, "evidence.page", where)
        out.append({"paper": item["paper"], "page": item["page"]})
    return out


def parse_question(obj: Any, where: str, default_id: str) -> Question:
    """One question from a decoded JSON line; unknown fields are ignored."""
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "question" not in obj:
        raise UserError(f"{where}: missing field 'question'")
    _check_type(obj["question"], str, "question", where)
    if not obj["question"].strip():
        raise UserError(f"{where}: field 'question' is empty")
    for name in ("id", "reference_answer", "type"):
        if name in obj:
            _check_type(obj[name], str, name, where)
    evidence = _parse_evidence(obj.get("evidence", []), where)
    answerable = obj.get("answerable", True)
    _check_type(answerable, bool, "answerable", where)
    key_terms = obj.get("key_terms", [])
    _check_type(key_terms, list, "key_terms", where)
    for term in key_terms:
        _check_type(term, str, "key_terms[]", where)
    split = obj.get("split")
    if split is not None and split not in SPLITS:
        raise UserError(f'{where}: field \'split\' must be "dev" or "test", got {split!r}')
    return Question(
        id=obj.get("id") or default_id,
        question=obj["question"],
        reference_answer=obj.get("reference_answer", ""),
        evidence=evidence,
        answerable=answerable,
        type=obj.get("type", "unanswerable" if not answerable else "factoid"),
        key_terms=[t for t in key_terms if t.strip()],
        split=split,
    )


def load_questions(path: str | Path) -> list[Question]:
    """Questions from a JSONL file; a bad line raises `UserError` naming its line number."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read questions file {path}: {e}") from e
    questions, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise UserError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") from e
        question = parse_question(obj, where, default_id=f"line-{number}")
        if question.id in seen:
            raise UserError(f"{where}: duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise UserError(f"{path} holds no questions; write one JSON object per line")
    return questions


def select_split(questions: Sequence[Question], split: str) -> list[Question]:
    """The questions of `split` ("dev", "test", or "all" for every question, split or not)."""
    if split not in (*SPLITS, "all"):
        msg = f"unknown split {split!r}; choose dev, test or all"
        raise UserError(msg)
    chosen = [q for q in questions if split == "all" or q.split == split]
    if not chosen:
        msg = f'no question has "split": "{split}"; mark questions dev/test or use --split all'
        raise UserError(msg)
    return chosen


def scope_papers(questions: Sequence[Question]) -> dict[str, tuple[str, ...]]:
    """The papers each question is about, by id: those its evidence names; for a question
    without evidence (an unanswerable one), every paper the set's evidence names, so that it is
    asked of the same library as its neighbours. Empty when the set names no paper."""
    everything = tuple(dict.fromkeys(p for q in questions for p in q.papers()))
    return {q.id: q.papers() or everything for q in questions}
