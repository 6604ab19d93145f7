"""Train the xLSTM token reader on questions built from the corpus' units.

    python -m xlstm_model.token_reader_train --corpus default --model-dir default

The groups are the reader stage's (`xlstm_model.reader_data.build_groups`): a question built
from a unit (table cell, definition, number, reason, list, comparison; paraphrased), that unit
first, then 7 hard negatives of the same paper; whole papers held out. The loss is listwise:
cross-entropy of the group's scores against its first unit, plus `span_weight` times the
cross-entropy of the answer span's start and end in that unit: trained jointly, the xLSTM's states
learn where an answer sits, not only whether a unit holds one (held-out exact span 0.39 -> 0.55,
answer first 0.93 -> 0.94; README). Then the span head alone takes a few more passes over the
trained states. No real question is trained on. `--members 2` (the default, `make train`)
trains two readers, each from its own seed on its own draw of the questions, side by side, and
saves their average (`TokenReaderEnsemble`): one reader's figures move with its seed by more
than most changes to it do (README, session 12).
Writes `token_reader.pt` and `token_reader.json` (config, held-out accuracy, figures) beside
the language model, where the answer path finds them (`app.resources`).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from xlstm_model.data import corpus_units, data_dir, read_corpus, resolve_run_dir, token_encoder
from xlstm_model.errors import ModelError
from xlstm_model.reader_data import ReaderGroup, build_groups
from xlstm_model.reader_members import can_fork, map_members
from xlstm_model.token_reader import (
    TokenReader,
    TokenReaderConfig,
    TokenReaderEnsemble,
    batch_pairs,
    has_token_reader,
    pair_features,
    save_token_reader,
)
from xlstm_model.token_reader_spans import fit_spans, mean_or_none, span_ce, span_exact, span_target

logger = logging.getLogger(__name__)


def encode_texts(groups: list[ReaderGroup], encoder, max_tokens: int) -> dict:
    """text -> its `TokenStates` (kept in half precision), for every question and unit."""
    texts = sorted({g.question.text for g in groups} | {t for g in groups for t in g.texts})
    states = encoder.embed_tokens(texts, max_tokens)
    return {t: replace(s, states=s.states.half()) for t, s in zip(texts, states, strict=True)}


def group_scores(model: TokenReader, groups: list[ReaderGroup], states: dict) -> torch.Tensor:
    """(N, G) scores of each group's units (the answering one first), in one forward pass."""
    feats = [pair_features(states[g.question.text], states[t]) for g in groups for t in g.texts]
    return model(*batch_pairs(feats)).view(len(groups), -1)


def group_loss(
    model: TokenReader, groups: list[ReaderGroup], states: dict, span_weight: float
) -> torch.Tensor:
    """Listwise cross-entropy of each group's scores against its first unit, plus `span_weight`
    x the span's start + end cross-entropy in that unit (groups whose span was cut off add none)."""
    feats, spans = [], []  # spans: (the unit's first pair position, its length, target) per group
    for g in groups:
        q, u = states[g.question.text], states[g.texts[0]]
        feats += [pair_features(q, states[t]) for t in g.texts]
        spans.append((len(q.ids), len(u.ids), span_target(u, g.question.start, g.question.end)))
    scores, starts, ends = model.read(*batch_pairs(feats))  # (N*G,), (N*G, S), (N*G, S)
    scores = scores.view(len(groups), -1)
    loss = F.cross_entropy(scores, torch.zeros(len(groups), dtype=torch.long))
    if span_weight <= 0:
        return loss
    G = scores.shape[1]  # the answering unit of group n is pair n * G
    span_losses = [
        span_ce(starts[n * G, lo : lo + size], ends[n * G, lo : lo + size], *target)
        for n, (lo, size, target) in enumerate(spans)
        if target is not None
    ]
    return loss + span_weight * torch.stack(span_losses).mean() if span_losses else loss


@torch.no_grad()
def accuracy(model: TokenReader, groups: list[ReaderGroup], states: dict) -> float | None:
    """Share of groups whose answering unit scores first (chance: 1 / group size)."""
    if not groups:
        return None
    model.eval()
    hits = [int(group_scores(model, [g], states).argmax()) == 0 for g in groups]
    model.train()
    return sum(hits) / len(hits)


def fit(
    model: TokenReader,
    groups: list[ReaderGroup],
    states: dict,
    epochs: int,
    deadline: float | None = None,
    lr: float = 2e-3,
    seed: int = 0,
    per_step: int = 1,
    span_weight: float = 0.3,
) -> dict:
    """Joint training, `per_step` groups per step, until `epochs` or `deadline` (time.time());
    the loss is `group_loss`'s."""
    if not groups:
        raise ModelError("no training groups: the corpus yields no reader questions")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    rng, steps, losses = random.Random(seed), 0, []  # losses: one per step
    model.train()
    for _ in range(epochs):
        order = list(groups)
        rng.shuffle(order)
        for first in range(0, len(order), per_step):
            if deadline is not None and time.time() > deadline:
                return {"steps": steps, "loss": mean_or_none(losses[-200:]), "stopped": "deadline"}
            loss = group_loss(model, order[first : first + per_step], states, span_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            losses.append(loss.item())
    return {"steps": steps, "loss": mean_or_none(losses[-200:]), "stopped": "epochs"}


def train_token_reader(
    units,
    encoder,
    config: TokenReaderConfig,
    epochs: int,
    minutes: float | None,
    seed: int = 0,
    per_step: int = 1,
    span_weight: float = 0.3,
    members: int = 1,
    started: float | None = None,
) -> tuple[TokenReader | TokenReaderEnsemble, dict]:
    """The trained reader and its card (held-out accuracy, groups, steps, seconds). With
    members > 1, an ensemble: member m starts from seed + m and trains on its own draw of the
    corpus questions (`build_groups(units, seed + m)`: other paraphrases, other negatives), the
    members side by side (`xlstm_model.reader_members`); held out: the first draw's papers.
    The `minutes` run from `started` (time.time(); default now): the command passes its own
    start, so that reading the corpus, cold on a fresh machine, counts against the budget."""
    started = time.time() if started is None else started
    torch.manual_seed(seed)
    draws = [build_groups(units, seed + m) for m in range(members)]
    val = [g for g in draws[0] if g.split == "val"]
    states = encode_texts([g for d in draws for g in d], encoder, config.max_text_tokens)
    encoded = time.time()
    deadline = started + minutes * 60 if minutes else None
    jobs = _member_jobs(draws, config, epochs, seed, per_step, span_weight, (encoded, deadline))
    trained, figures = [], []
    for weights, fitted in map_members(train_member, jobs, states):
        trained.append(TokenReader(config))
        trained[-1].load_state_dict(weights)
        figures.append(fitted)
    model = trained[0] if members == 1 else TokenReaderEnsemble(trained)
    card = {
        "heldout_first": accuracy(model, val, states),
        "heldout_span_exact": span_exact(model, val, states),
        "chance": 1 / len(draws[0][0].texts),
        "train_groups": len(jobs[0]["train"]),
        "heldout_groups": len(val),
        "heldout_papers": sorted({g.question.unit.paper for g in val}),
        "encode_s": round(encoded - started, 1),  # since `started`: corpus, questions, encoding
        "train_s": round(time.time() - encoded, 1),
        "params": sum(p.numel() for p in model.parameters()),
        "groups_per_step": per_step,
        "span_weight": span_weight,
        **_member_figures(figures),
    }
    if members > 1:
        card["member_heldout_first"] = [accuracy(m, val, states) for m in trained]
    return model, card


def _member_jobs(draws, config, epochs, seed, per_step, span_weight, times) -> list[dict]:
    """`train_member`'s arguments per member; side by side each member has the whole time
    left (`times`: when encoding ended, the deadline or None), one after the other an equal
    share of it."""
    encoded, deadline = times
    shared = deadline is None or (len(draws) > 1 and can_fork())
    return [
        {"config": config, "train": [g for g in draw if g.split == "train"], "epochs": epochs,
         "seed": seed + m, "per_step": per_step, "span_weight": span_weight,
         "deadline": deadline if shared
         else encoded + (deadline - encoded) * (m + 1) / len(draws)}
        for m, draw in enumerate(draws)
    ]  # fmt: skip


def train_member(
    states: dict, threads: int, config, train, epochs, deadline, seed, per_step, span_weight
) -> tuple[dict, dict]:
    """One reader trained from `seed` on `train` (`fit`, then `fit_spans`): its weights and
    figures."""
    torch.manual_seed(seed)
    model = TokenReader(config)
    figures = fit(model, train, states, epochs, deadline, seed=seed, per_step=per_step,
                  span_weight=span_weight)  # fmt: skip
    figures |= fit_spans(model, train, states, seed=seed)
    return model.state_dict(), figures | {"threads": threads}


def _member_figures(figures: list[dict]) -> dict:
    """One member's training figures as they are; several members' summed or listed."""
    if len(figures) == 1:
        return figures[0]
    return {
        "steps": sum(f["steps"] for f in figures),
        "loss": mean_or_none([f["loss"] for f in figures if f["loss"] is not None]),
        "stopped": "deadline" if any(f["stopped"] == "deadline" for f in figures) else "epochs",
        "span_examples": figures[0]["span_examples"],
        "span_loss": mean_or_none([f["span_loss"] for f in figures if f["span_loss"] is not None]),
        "threads": figures[0]["threads"],
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m xlstm_model.token_reader_train", description=__doc__.split("\n")[0]
    )
    p.add_argument("--corpus", nargs="+", default=["default"], help='folders/files, or "default"')
    p.add_argument("--model-dir", default="default", help='where the model lives, or "default"')
    p.add_argument("--epochs", type=int, default=2, help="passes over the training groups")
    p.add_argument(
        "--max-minutes", type=float, default=4.5, help="wall-clock budget, corpus reading included"
    )
    p.add_argument("--groups-per-step", type=int, default=1, help="groups per optimizer step")
    p.add_argument(
        "--span-weight", type=float, default=0.3, help="span loss weight in training (0: none)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--members", type=int, default=2, help="readers of seeds seed.. averaged into one"
    )
    p.add_argument("--if-missing", action="store_true", help="exit 0 if a reader exists")
    return p


def main(argv: list[str] | None = None) -> int:
    started = time.time()  # --max-minutes is the command's wall clock, corpus reading included
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        folder = resolve_run_dir(args.model_dir)
        if args.if_missing and has_token_reader(folder):
            print(f"a token reader already exists in {folder}; nothing to do")
            return 0
        if min(args.epochs, args.groups_per_step, args.members) < 1 or args.max_minutes <= 0:
            msg = (
                "--epochs, --groups-per-step, --members and --max-minutes must be positive, "
                "e.g. --epochs 2"
            )
            raise ModelError(msg)
        if args.span_weight < 0:
            raise ModelError("--span-weight must be 0 or more, e.g. --span-weight 0.3")
        model, card = _train(args, started)
        save_token_reader(model, card, folder)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"token reader: {args.members} x {card['steps'] // args.members} steps in "
        f"{card['train_s']:.0f} s; held-out "
        f"answer first {card['heldout_first'] or 0:.3f} (chance {card['chance']:.3f}) -> {folder}"
    )
    return 0


def _train(
    args: argparse.Namespace, started: float
) -> tuple[TokenReader | TokenReaderEnsemble, dict]:
    encoder = token_encoder()  # the packaged MiniLM (`ingest.minilm`)
    files, _ = read_corpus(args.corpus)
    units = corpus_units(files, cache_dir=data_dir() / "cache" / "corpus_units")
    config, per_step = TokenReaderConfig(), args.groups_per_step
    return train_token_reader(
        units, encoder, config, args.epochs, args.max_minutes, args.seed, per_step,
        args.span_weight, args.members, started,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
