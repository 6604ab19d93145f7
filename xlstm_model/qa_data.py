"""The QA stage's training data: QA examples and ranking groups, as token batches.

Two kinds of data train the "qa" stage that follows pre-training:

- **Ranking groups** (`--qa rank`, the default). The answer generator ranks evidence sentences by
  the xLSTM's log p(question | sentence) (UPR). Maximum-likelihood fine-tuning teaches the model
  which questions are likely in general, not which sentence a question asks about: its scores came
  out nearly flat across candidates. So the model is trained on what it is used for, telling the
  sentence a question was asked about from others. A *group* is one pseudo-question, the sentence
  it was made from (the positive, first) and sentences of the same paper that do not answer it
  (negatives): some sharing its words (hard), some drawn at random. Most pseudo-questions are
  question-shaped: a wh-opening and a few of the sentence's content words in order, one sometimes
  swapped for a word of a neighbouring sentence ("What exponential gating normalization?"); the
  rest are inverse-cloze queries (Lee et al., 2019): a neighbouring sentence. Every passage of a
  group is laid out exactly as `xlstm_model.scoring.upr_scores` scores it, and the loss is
  `scoring.rank_loss` (the UPR score turned into a listwise classifier).
- **QA examples** (`--qa FILE`, `--qa auto`). A JSONL row ``{"context", "question", "answer"}``
  becomes ``<|context|> {context} <|question|> {question} <|answer|> {answer}<|endoftext|>`` with
  the loss on the answer tokens only (every other label is -100). A row with an empty answer is a
  UPR example: ``<|context|> {context} <|question|>`` then `` {question}``, with the loss on the
  question. `--qa auto` builds such rows from the corpus as inverse-cloze examples (a sentence
  plays the question, a neighbouring sentence the evidence); measured, this left the scores at
  chance on the question set.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from xlstm_model.data import STOP_WORDS, split_sentences
from xlstm_model.errors import ModelError
from xlstm_model.prompt import (
    format_answer,
    format_passage_for_upr,
    format_prompt,
    format_question_for_upr,
)
from xlstm_model.scoring import UPR_PASSAGE_TOKENS, group_scores, upr_context_tokens
from xlstm_model.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

Example = tuple[list[int], list[int]]  # (input ids, labels) of equal length
Group = list[Example]  # one ranking group: the positive passage's example first

# -- sentences of the corpus

MIN_WORDS, MAX_QUERY_WORDS, MAX_CONTEXT_WORDS = 6, 24, 60


def _sentences(text: str) -> list[str]:
    out = []
    for s in split_sentences(text, min_chars=1):
        words = s.split()
        if len(words) >= MIN_WORDS and sum(w.isalpha() for w in words) >= len(words) // 2:
            out.append(s)
    return out


def _clip(text: str, max_words: int) -> str:
    return " ".join(text.split()[:max_words])


# -- QA examples


def inverse_cloze_examples(
    documents: Iterable[str], max_examples: int = 20_000, seed: int = 0
) -> list[dict[str, str]]:
    """`{"context": evidence sentence, "question": neighbouring sentence, "answer": ""}` rows.

    The "question" is trained as the continuation, so a fine-tuned model scores
    log p(question | evidence) the way `xlstm_model.scoring.upr_scores` asks it.
    """
    rng = random.Random(seed)
    examples = []
    for text in documents:
        sentences = _sentences(text)
        for i in range(len(sentences) - 1):
            j = i + 1 if rng.random() < 0.5 or i == 0 else i - 1
            examples.append(
                {
                    "context": _clip(sentences[j], MAX_CONTEXT_WORDS),
                    "question": _clip(sentences[i], MAX_QUERY_WORDS),
                    "answer": "",
                }
            )
    rng.shuffle(examples)
    return examples[:max_examples]


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


def load_qa_examples(
    source: str, tokenizer: Tokenizer, texts: list[str], settings, max_len: int
) -> tuple[list[Example], list[Example]] | None:
    """(train, val) QA examples from a JSONL file, or for "auto" inverse-cloze examples built
    from the corpus texts (None when the corpus has too few sentences for a batch).

    `settings` is the run's TrainSettings (batch size, validation share, seed).
    """
    if source != "auto":
        examples = encode_examples(tokenizer, read_qa_jsonl(source), max_len)
        return split_examples(examples, settings.batch_size, settings.val_fraction)
    keep = 1 - settings.val_fraction  # only the training part of every document
    rows = inverse_cloze_examples([t[: int(len(t) * keep)] for t in texts], seed=settings.seed)
    try:
        examples = encode_examples(tokenizer, rows, max_len)
        return split_examples(examples, settings.batch_size, settings.val_fraction)
    except ModelError as e:
        logger.warning("skipping the QA stage: %s", e)
        return None


# -- ranking groups

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-\[\]:.]*[A-Za-z0-9\]]|[0-9]+(?:\.[0-9]+)?%?")
_OPENINGS = (
    "What",
    "What is",
    "What are",
    "What does",
    "How",
    "How does",
    "How do",
    "Which",
    "Why",
    "What is the role of",
    "How many",
)
_OPENING_WORDS = frozenset(w.lower() for o in _OPENINGS for w in o.split())
ICT_SHARE = 0.25  # share of groups whose query is a neighbouring sentence
HARD_POOL = 48  # sentences of the paper sampled to find hard negatives


MAX_VAL_GROUPS = 96


def is_prose(sentence: str) -> bool:
    """False for reference-list entries and author lines (mostly capitalised words)."""
    words = sentence.split()
    capitalised = sum(w[:1].isupper() for w in words)
    return capitalised <= 0.4 * len(words) and not re.search(r"\b(19|20)\d\d[a-z]?\b", sentence)


def content_words(sentence: str) -> list[str]:
    """The sentence's words that carry content (no stop words), in order."""
    return [w for w in _WORD.findall(sentence) if w.lower() not in STOP_WORDS]


def asked_words(question: str) -> set[str]:
    """The lower-cased content words of a question, without its wh-opening."""
    return {w.lower() for w in content_words(question)} - _OPENING_WORDS


def pseudo_question(words: list[str], neighbour_words: list[str], rng: random.Random) -> str:
    """A wh-question made of 2-7 of `words` in order; one may come from a neighbour."""
    k = rng.randint(2, min(7, len(words)))
    keep = sorted(rng.sample(range(len(words)), k))
    picked = [words[i] for i in keep]
    if neighbour_words and rng.random() < 0.3:
        picked[rng.randrange(k)] = rng.choice(neighbour_words)
    return f"{rng.choice(_OPENINGS)} {' '.join(picked)}?"


def _negatives(
    question: str, positive: int, word_sets: list[set[str]], k: int, rng: random.Random
) -> list[int]:
    """k sentence indices other than `positive` and its neighbours: half sharing the most
    question words among a random pool (hard), the rest random."""
    banned = {positive - 1, positive, positive + 1}
    pool = rng.sample(range(len(word_sets)), min(HARD_POOL, len(word_sets)))
    pool = [i for i in pool if i not in banned]
    asked = asked_words(question)

    def shared(i: int) -> int:
        return len(asked & word_sets[i])

    # a sentence with every asked word may well answer the question too: not a negative
    pool = [i for i in pool if shared(i) < len(asked)]
    hard = sorted(pool, key=shared, reverse=True)[: k // 2]
    rest = [i for i in pool if i not in hard]
    return hard + rest[: k - len(hard)]


def ranking_groups(
    documents: Iterable[str], negatives: int = 7, max_groups: int = 6000, seed: int = 0
) -> list[dict]:
    """`{"question": str, "passages": [positive, negative, ...]}` groups, shuffled.

    Every group has exactly `negatives` + 1 passages; documents with too few sentences give none.
    """
    rng = random.Random(seed)
    groups = []
    for text in documents:
        sentences = _sentences(text)
        if len(sentences) < negatives + 4:
            continue
        words_of = [content_words(s) for s in sentences]
        word_sets = [{w.lower() for w in words} for words in words_of]
        for i, (sentence, words) in enumerate(zip(sentences, words_of, strict=True)):
            if len(words) < 3 or not is_prose(sentence):
                continue
            j = i + 1 if i + 1 < len(sentences) and (i == 0 or rng.random() < 0.5) else i - 1
            if rng.random() < ICT_SHARE:
                question = _clip(sentences[j], MAX_QUERY_WORDS)
            else:
                question = pseudo_question(words, words_of[j], rng)
            chosen = _negatives(question, i, word_sets, negatives, rng)
            if len(chosen) < negatives:
                continue
            passages = [sentence] + [sentences[n] for n in chosen]
            groups.append(
                {"question": question, "passages": [_clip(p, MAX_CONTEXT_WORDS) for p in passages]}
            )
    rng.shuffle(groups)
    return groups[:max_groups]


@dataclass
class RankData:
    """Encoded train/validation groups; every group has `group_size` examples."""

    train: list[Group]
    val: list[Group]
    group_size: int


def encode_group(tokenizer: Tokenizer, group: dict, passage_tokens: int) -> Group:
    target = tokenizer.encode(format_question_for_upr(group["question"]))[:48]
    out = []
    for passage in group["passages"]:
        context = upr_context_tokens(tokenizer, passage, passage_tokens)
        sequence = context + target
        out.append((sequence[:-1], [-100] * (len(context) - 1) + target))
    return out


def build_rank_data(
    tokenizer: Tokenizer, texts: list[str], groups_per_batch: int, seed: int, val_fraction: float
) -> RankData | None:
    """Ranking groups from the training part of every document; None when there are too few."""
    keep = 1 - val_fraction  # the validation tails stay unseen
    groups = ranking_groups([t[: int(len(t) * keep)] for t in texts], seed=seed)
    encoded = [encode_group(tokenizer, g, UPR_PASSAGE_TOKENS) for g in groups]
    n_val = min(MAX_VAL_GROUPS, max(1, int(len(encoded) * 0.05)))
    if len(encoded) - n_val < groups_per_batch:
        logger.warning("skipping the ranking stage: only %d ranking groups", len(encoded))
        return None
    return RankData(encoded[:-n_val], encoded[-n_val:], len(encoded[0]))


def collate_groups(groups: list[Group], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels) of shape (G * group_size, T_max), group by group."""
    return pad_batch([example for group in groups for example in group], pad_id)


@torch.no_grad()
def evaluate_ranking(model, groups: list[Group], pad_id: int, device, batch_groups: int = 4):
    """{"rank_val_loss": mean listwise loss, "rank_val_acc": share of groups whose positive
    scores highest} over `groups`."""
    model.eval()
    losses, hits = [], []
    for i in range(0, len(groups), batch_groups):
        chosen = groups[i : i + batch_groups]
        inputs, labels = collate_groups(chosen, pad_id)
        logits, _ = model(inputs.to(device))
        scores = group_scores(logits, labels.to(device), len(chosen[0]))
        target = torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
        losses.append(F.cross_entropy(scores, target, reduction="none"))
        hits.append(scores.argmax(dim=1) == 0)
    return {
        "rank_val_loss": float(torch.cat(losses).mean()),
        "rank_val_acc": float(torch.cat(hits).float().mean()),
    }
