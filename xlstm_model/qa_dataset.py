"""QA fine-tuning data: JSONL rows → (input ids, labels) with the loss on the completion only.

A JSONL row ``{"context", "question", "answer"}`` becomes
``<|context|> {context} <|question|> {question} <|answer|> {answer}<|endoftext|>`` with the loss on
the answer tokens only (every other label is -100). A row with an empty answer is a UPR example:
``<|context|> {context} <|question|>`` then `` {question}``, with the loss on the question, which is
exactly what `xlstm_model.scoring.upr_scores` reads out.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from xlstm_model.errors import ModelError
from xlstm_model.prompt import (
    format_answer,
    format_passage_for_upr,
    format_prompt,
    format_question_for_upr,
)
from xlstm_model.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

Example = tuple[list[int], list[int]]  # (input ids, labels) of equal length


def read_qa_jsonl(path: str | Path) -> list[dict]:
    """Rows of a QA JSONL file; ModelError names the first bad line."""
    path = Path(path)
    if not path.is_file():
        msg = f"no QA file at {path}; pass JSONL lines of {{context, question, answer}}"
        raise ModelError(msg)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            msg = f"{path}:{number} is not valid JSON ({e.msg})"
            raise ModelError(msg) from e
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) for k in ("context", "question")
        ):
            msg = f"{path}:{number} needs string fields context and question (and answer)"
            raise ModelError(msg)
        rows.append(
            {
                "context": row["context"],
                "question": row["question"],
                "answer": row.get("answer") or "",
            }
        )
    if not rows:
        msg = f"the QA file {path} has no examples"
        raise ModelError(msg)
    return rows


def encode_example(tokenizer: Tokenizer, row: dict, max_len: int) -> Example:
    """Input ids and labels (-100 outside the completion) of one row, at most max_len long."""
    if row["answer"].strip():
        prompt, completion = (
            format_prompt(row["context"], row["question"]),
            format_answer(row["answer"]),
        )
    else:
        prompt, completion = (
            format_passage_for_upr(row["context"]),
            format_question_for_upr(row["question"]),
        )
    prompt_ids, completion_ids = tokenizer.encode(prompt), tokenizer.encode(completion)
    completion_ids = completion_ids[: max_len // 2]
    budget = max_len + 1 - len(completion_ids)
    if len(prompt_ids) > budget:  # keep the context marker and the end nearest the question
        prompt_ids = prompt_ids[:1] + prompt_ids[len(prompt_ids) - budget + 1 :]
    sequence = prompt_ids + completion_ids
    labels = [-100] * (len(prompt_ids) - 1) + completion_ids
    return sequence[:-1], labels


def encode_examples(tokenizer: Tokenizer, rows: list[dict], max_len: int) -> list[Example]:
    return [encode_example(tokenizer, row, max_len) for row in rows]


def pad_batch(examples: list[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (inputs, labels): (B, T_max); padding is pad_id / -100."""
    width = max(len(ids) for ids, _ in examples)
    inputs = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    for row, (ids, lab) in enumerate(examples):
        inputs[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(lab)] = torch.tensor(lab)
    return inputs, labels


MAX_VAL_EXAMPLES = 128  # keeps each QA evaluation to a few forward passes


def split_examples(examples: list[Example], batch_size: int, val_fraction: float = 0.05):
    """(train, val): the last `val_fraction` of the examples (1 to 128) are held out."""
    n_val = min(MAX_VAL_EXAMPLES, max(1, int(len(examples) * val_fraction)))
    train, val = examples[:-n_val], examples[-n_val:]
    if len(train) < batch_size:
        msg = (
            f"only {len(examples)} QA examples, too few for a batch of {batch_size} plus "
            "validation; pass a larger --qa file"
        )
        raise ModelError(msg)
    return train, val


class QASampler:
    """Shuffled padded batches of QA examples, restartable from `state_dict()`."""

    def __init__(
        self,
        examples: list[Example],
        batch_size: int,
        pad_id: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        collate=pad_batch,
    ) -> None:
        """`examples` may be any items `collate(items, pad_id)` turns into a batch."""
        self.examples, self.batch_size, self.pad_id = examples, batch_size, pad_id
        self.collate = collate
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch, self.cursor = 0, 0
        self._order = self._epoch_order(0)

    def _epoch_order(self, epoch: int) -> list[int]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 + epoch)
        return torch.randperm(len(self.examples), generator=gen).tolist()

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        global_batch = self.batch_size * self.world_size
        if self.cursor + global_batch > len(self._order):
            self.epoch, self.cursor = self.epoch + 1, 0
            self._order = self._epoch_order(self.epoch)
        first = self.cursor + self.rank * self.batch_size
        chosen = self._order[first : first + self.batch_size]
        self.cursor += global_batch
        return self.collate([self.examples[i] for i in chosen], self.pad_id)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._order = self._epoch_order(self.epoch)


def qa_val_batches(examples: list[Example], batch_size: int, pad_id: int, rank: int, world: int):
    """A callable yielding this rank's padded validation batches."""
    mine = examples[rank::world]

    def batches():
        for i in range(0, len(mine), batch_size):
            yield pad_batch(mine[i : i + batch_size], pad_id)

    return batches


def load_qa(source: str, tokenizer: Tokenizer, texts: list[str], settings, max_len: int):
    """What the QA stage trains on: for a JSONL file, and for "auto" (inverse-cloze examples
    built from the corpus texts), (train, val) QA examples; for "rank", ranking groups built
    from the corpus texts (`rank_dataset.RankData`).

    None for "none", or when the corpus has too few sentences to build examples.
    `settings` is the run's TrainSettings (batch size, validation share, seed).
    """
    if source == "none":
        return None
    if source == "rank":
        from xlstm_model.rank_dataset import build_rank_data

        return build_rank_data(
            tokenizer, texts, settings.rank_groups, settings.seed, settings.val_fraction
        )
    if source != "auto":
        examples = encode_examples(tokenizer, read_qa_jsonl(source), max_len)
        return split_examples(examples, settings.batch_size, settings.val_fraction)
    from xlstm_model.qa_data import inverse_cloze_examples

    keep = 1 - settings.val_fraction  # only the training part of every document
    rows = inverse_cloze_examples([t[: int(len(t) * keep)] for t in texts], seed=settings.seed)
    try:
        examples = encode_examples(tokenizer, rows, max_len)
        return split_examples(examples, settings.batch_size, settings.val_fraction)
    except ModelError as e:
        logger.warning("skipping the QA stage: %s", e)
        return None
