"""The reader stage's data: question groups with hard negatives, held-out papers, token batches.

A *group* is one question built from a unit (`xlstm_model.reader_questions`), that unit (the
positive, first) and `group_size - 1` units that do not answer it, hardest first:
1. rivals (a comparison's losing row);
2. topical units of the same section or table that do not contain the answer, most question
   words first (they include the paper's own restatements of the question);
3. captions of the same paper (they announce results without stating them);
4. an echo: a sentence restating the question without its answer ("In this section we ask
   why …"; comparisons name their answer, so their rival plays this part);
5. random units of the same paper.
Whole papers are held out for validation (`heldout_papers`).

Each pair reads ``<|question|> {question} <|context|> {unit} <|answer|>``: the model sees the
question before the unit, so every unit token can point at the answer span, and the final state
(at `<|answer|>`) scores whether the unit answers (`XLSTMLM.read`).
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass

import torch

from xlstm_model.data import STOP_WORDS, Unit
from xlstm_model.errors import ModelError
from xlstm_model.prompt import ANSWER, CONTEXT, QUESTION, clean_text
from xlstm_model.reader_questions import Question, build_questions
from xlstm_model.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

GROUP_SIZE = 8
MAX_QUESTION_TOKENS = 48
MAX_VAL_GROUPS = 96  # keeps each evaluation to a few forward passes
NEGATIVE_KINDS = ("text", "table_row", "caption", "equation")


@dataclass(frozen=True)
class ReaderGroup:
    """A question, its answering unit's text first, then the negatives' texts."""

    question: Question
    texts: tuple[str, ...]
    split: str  # "train" or "val"


@dataclass(frozen=True)
class EncodedGroup:
    """Token rows of one group: ids per pair, the position of <|answer|> per pair, the unit's
    token range per pair, and the answer span's token range in the positive (-1: none)."""

    rows: tuple[tuple[int, ...], ...]
    unit_ranges: tuple[tuple[int, int], ...]
    span: tuple[int, int]
    form: str


def heldout_papers(papers: list[str], fraction: float = 0.15) -> set[str]:
    """Papers held out for validation: the `fraction` (at least one of two or more) whose
    sha1(name) comes first, so the choice is stable as papers are added."""
    names = sorted(set(papers), key=lambda p: hashlib.sha1(p.encode()).hexdigest())
    if len(names) < 2:
        return set()
    return set(names[: max(1, round(len(names) * fraction))])


def _words(text: str) -> set[str]:
    return {w.strip(",.;:?()").lower() for w in text.split()} - STOP_WORDS - {""}


def echo_of(question: Question) -> str:
    """A sentence restating the question without answering it (an echo, as papers write)."""
    body = question.text.rstrip("?").split(" ", 1)[-1]
    return f"In this section we ask {question.text.split(' ', 1)[0].lower()} {body}."


def negatives_for(
    question: Question, paper_units: list[Unit], rng: random.Random, count: int
) -> list[str]:
    """`count` non-answering unit texts for `question`, hardest first (see the module doc)."""
    answer, unit = question.answer.strip(), question.unit
    pool = [u for u in paper_units if u.text != unit.text and answer not in u.text]
    pool = [u for u in pool if u.kind in NEGATIVE_KINDS]
    asked = _words(question.text)
    near = [u for u in pool if (u.section and u.section == unit.section) or
            (u.table and u.table == unit.table)]  # fmt: skip
    near.sort(key=lambda u: -len(asked & _words(u.text)))
    captions = [u for u in pool if u.kind == "caption"]
    rng.shuffle(captions)
    out = [*question.rivals, *[u.text for u in near[: max(1, count // 2)]]]
    out += [u.text for u in captions[:1]]
    if answer not in question.text:  # a comparison names its answer: its rival is the echo
        out.append(echo_of(question))
    rest = [u.text for u in pool]
    rng.shuffle(rest)
    seen: set[str] = set()
    picked = [t for t in out + rest if not (t in seen or seen.add(t))]
    return picked[:count]


def build_groups(
    units: list[Unit], seed: int = 0, group_size: int = GROUP_SIZE, heldout: float = 0.15
) -> list[ReaderGroup]:
    """Every question the corpus' units yield, as a group; papers in `heldout_papers` are "val".

    Raises:
        ModelError: when the units yield no question (an empty corpus, or text with no
            definitions, numbers, reasons, lists, comparisons or tables).
    """
    questions = build_questions(units, seed)
    if not questions:
        msg = (f"the corpus' {len(units)} units yield no reader questions (no tables, numbers, "
               "definitions or reasons); pass papers, or train with --qa rank")  # fmt: skip
        raise ModelError(msg)
    by_paper: dict[str, list[Unit]] = {}
    for unit in units:
        by_paper.setdefault(unit.paper, []).append(unit)
    val_papers, rng = heldout_papers(list(by_paper)), random.Random(seed + 1)
    groups = []
    for q in questions:
        negatives = negatives_for(q, by_paper[q.unit.paper], rng, group_size - 1)
        if len(negatives) == group_size - 1:
            split = "val" if q.unit.paper in val_papers else "train"
            groups.append(ReaderGroup(q, (q.unit.text, *negatives), split))
    return groups


def encode_pair(
    tok: Tokenizer, question: str, unit: str, max_len: int, span: tuple[int, int] | None = None
) -> tuple[list[int], tuple[int, int], tuple[int, int]]:
    """(ids, (first, end) token positions of the unit in ids, answer span's (start, end) token
    positions, inclusive, or (-1, -1)). A unit longer than the context is cut at its end; a
    span that falls outside what is kept becomes (-1, -1)."""
    q_ids = tok.encode(f" {clean_text(question)}")[:MAX_QUESTION_TOKENS]
    head = [tok.token_id(QUESTION), *q_ids, tok.token_id(CONTEXT)]
    encoding = tok.hf.encode(f" {unit}", add_special_tokens=False)
    budget = max(1, max_len - len(head) - 1)
    unit_ids, offsets = encoding.ids[:budget], encoding.offsets[:budget]
    ids = [*head, *unit_ids, tok.token_id(ANSWER)]
    first = len(head)
    token_span = (-1, -1)
    if span is not None:  # offsets are into " " + unit: shift by one
        inside = [i for i, (a, b) in enumerate(offsets) if b - 1 > span[0] and a - 1 < span[1]]
        kept_to = offsets[-1][1] - 1 if offsets else 0  # characters of the unit kept
        if inside and kept_to >= span[1]:
            token_span = (first + inside[0], first + inside[-1])
    return ids, (first, first + len(unit_ids)), token_span


def encode_group(tok: Tokenizer, group: ReaderGroup, max_len: int) -> EncodedGroup:
    q = group.question
    rows, ranges, span = [], [], (-1, -1)
    for i, text in enumerate(group.texts):
        char_span = (q.start, q.end) if i == 0 else None
        ids, unit_range, token_span = encode_pair(tok, q.text, text, max_len, char_span)
        rows.append(tuple(ids))
        ranges.append(unit_range)
        span = token_span if i == 0 else span
    return EncodedGroup(tuple(rows), tuple(ranges), span, q.form)


def collate_reader(groups: list[EncodedGroup], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded rows of whole groups: inputs (R, T), answer_pos (R,), unit_mask (R, T), and
    per group the positive's span start/end (G,) (-1: no span)."""
    rows = [r for g in groups for r in g.rows]
    ranges = [u for g in groups for u in g.unit_ranges]
    width = max(len(r) for r in rows)
    inputs = torch.full((len(rows), width), pad_id, dtype=torch.long)
    unit_mask = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, (row, (first, end)) in enumerate(zip(rows, ranges, strict=True)):
        inputs[i, : len(row)] = torch.tensor(row)
        unit_mask[i, first:end] = True
    return {
        "inputs": inputs,
        "answer_pos": torch.tensor([len(r) - 1 for r in rows]),
        "unit_mask": unit_mask,
        "span_start": torch.tensor([g.span[0] for g in groups]),
        "span_end": torch.tensor([g.span[1] for g in groups]),
        "group_size": torch.tensor(len(groups[0].rows)),
    }


def split_groups(
    tok: Tokenizer, groups: list[ReaderGroup], max_len: int
) -> tuple[list[EncodedGroup], list[EncodedGroup]]:
    """(train, val) encoded groups; val is the held-out papers' groups (at most MAX_VAL_GROUPS),
    or, with a single paper, every tenth group."""
    train = [encode_group(tok, g, max_len) for g in groups if g.split == "train"]
    val = [encode_group(tok, g, max_len) for g in groups if g.split == "val"]
    if not val:
        logger.warning("one paper only: validating the reader on every tenth question")
        val, train = train[::10], [g for i, g in enumerate(train) if i % 10]
    if not train:
        msg = "every reader question comes from held-out papers; add papers to the corpus"
        raise ModelError(msg)
    random.Random(0).shuffle(val)  # a cut of every held-out paper and form, not the first ones
    return train, val[:MAX_VAL_GROUPS]
