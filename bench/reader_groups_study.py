"""How hard are the token reader's corpus questions for the answer path's own base score?
`python -m bench.reader_groups_study [--corpus default] [--train-sample 400]`

The token reader trains on groups built from the corpus' units (`xlstm_model.reader_data`): a
question cut from a unit, that unit first, then 7 hard negatives (rivals, topical units, a
caption, an echo of the question, random units). This scores each held-out group (and a sample
of the training ones) with the answer path's dense + lexical base (MiniLM cosine +
`lexical_weight` x question-word overlap, as `app.evidence.score_candidates` scores units) and
prints how often the base alone puts the answering unit first: with every negative, and without
the echo ("In this section we ask ..."), which shares the question's words by construction.
A base that solves the groups alone leaves the reader little to learn that the answer path does
not already know; compare it with `bench.xreader_study`'s dense + lexical figure on real
questions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence

import numpy as np

from app.errors import UserError


def base_first(question: str, texts: Sequence[str], embeddings, lexical_weight: float) -> bool:
    """Whether the dense + lexical base ranks `texts[0]` (the answering unit) first."""
    from app.evidence import dense_scores, lexical_scores

    dense, _ = dense_scores(question, list(texts), embeddings)
    base = dense + lexical_weight * lexical_scores(question, list(texts))
    return int(np.argmax(base)) == 0


def study(groups: Sequence, embeddings, lexical_weight: float) -> dict:
    """Per split: groups, chance (1 / group size), the base's first-place rate with every
    negative (`base_first`) and without the echo (`base_first_no_echo`)."""
    from xlstm_model.reader_data import echo_of

    out: dict = {}
    for split in ("train", "val"):
        rows = [g for g in groups if g.split == split]
        if not rows:
            continue
        whole = [base_first(g.question.text, g.texts, embeddings, lexical_weight) for g in rows]
        no_echo = [
            base_first(
                g.question.text,
                [t for t in g.texts if t != echo_of(g.question)],
                embeddings,
                lexical_weight,
            )  # fmt: skip
            for g in rows
        ]
        out[split] = {
            "groups": len(rows),
            "chance": round(1 / len(rows[0].texts), 3),
            "base_first": round(float(np.mean(whole)), 3),
            "base_first_no_echo": round(float(np.mean(no_echo)), 3),
        }
    return out


def sampled(groups: Sequence, train_sample: int, seed: int = 0) -> list:
    """Every held-out group and at most `train_sample` training groups (drawn with `seed`)."""
    train = [g for g in groups if g.split == "train"]
    if len(train) > train_sample:
        train = random.Random(seed).sample(train, train_sample)
    return [*train, *(g for g in groups if g.split == "val")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reader_groups_study", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--corpus", nargs="+", default=["default"], help='files/folders or "default"'
    )
    parser.add_argument("--train-sample", type=int, default=400, help="training groups scored")
    parser.add_argument("--seed", type=int, default=0, help="the draw of corpus questions")
    args = parser.parse_args(argv)
    try:
        from app.answer_settings import AnswerSettings
        from ingest.embeddings import load_embeddings
        from xlstm_model.data import corpus_units, data_dir, read_corpus
        from xlstm_model.errors import ModelError
        from xlstm_model.reader_data import build_groups

        try:
            files, _ = read_corpus(args.corpus)
            units = corpus_units(files, cache_dir=data_dir() / "cache" / "corpus_units")
            groups = build_groups(units, args.seed)
        except ModelError as e:
            raise UserError(str(e)) from e
        result = study(
            sampled(groups, args.train_sample, args.seed),
            load_embeddings(),
            AnswerSettings().lexical_weight,
        )
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
