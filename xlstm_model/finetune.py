"""QA fine-tuning of a trained run: `python -m xlstm_model.finetune --run DIR --qa FILE`.

The same stage `python -m xlstm_model.train` runs after pre-training (see `qa_data` for the
example format and the loss mask), applied to an existing run directory: the best weights are
loaded, fine-tuned for --max-minutes / --max-steps, and saved back (best at the root, last/).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from xlstm_model.checkpoint import load_run
from xlstm_model.data import read_corpus, resolve_run_dir, split_tokens
from xlstm_model.errors import ModelError
from xlstm_model.loop import (
    QA,
    RunSession,
    Trainer,
    TrainSettings,
    init_distributed,
    qa_stage,
    rank_stage,
    run_stage,
    shutdown_distributed,
)
from xlstm_model.qa_data import build_rank_data, load_qa_examples


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m xlstm_model.finetune", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--run", default="default", help='run directory, or "default"')
    p.add_argument(
        "--qa",
        required=True,
        help='QA JSONL; "auto": inverse-cloze examples from --corpus; "rank": the UPR '
        "re-ranker, listwise, on question-shaped groups built from --corpus",
    )
    p.add_argument(
        "--corpus", nargs="+", help='documents for "auto"/"rank" and validation perplexity'
    )
    p.add_argument(
        "--max-minutes", type=float, help="wall-clock budget (default 2 without --max-steps)"
    )
    p.add_argument("--max-steps", type=int, help="fine-tuning steps")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    return p


def finetune(args: argparse.Namespace) -> dict:
    """Fine-tunes the run's best weights on QA examples; returns the run summary."""
    started = time.monotonic()
    info, device = init_distributed(args.device)
    run_dir = resolve_run_dir(args.run)
    run = load_run(run_dir)
    settings = TrainSettings.from_dict(run.meta.get("training", {}).get("settings", {}))
    texts = read_corpus(args.corpus)[1] if args.corpus else []
    ctx, pad = run.config.context_length, run.tokenizer.pad_id
    if args.qa in ("auto", "rank") and not texts:
        msg = f'--qa {args.qa} builds examples from the corpus; pass --corpus (e.g. "default")'
        raise ModelError(msg)
    split = None
    if texts:
        ids = run.tokenizer.encode_batch(texts)
        split = split_tokens(ids, run.tokenizer.eot_id, settings.val_fraction)
    rank = examples = None
    if args.qa == "rank":
        s = settings
        rank = build_rank_data(run.tokenizer, texts, s.rank_groups, s.seed, s.val_fraction)
    else:
        examples = load_qa_examples(args.qa, run.tokenizer, texts, settings, ctx)
    if rank is None and examples is None:
        msg = f"no QA examples could be built from {args.qa!r}"
        raise ModelError(msg)
    trainer = Trainer(run.model, settings, device, info)
    if rank is not None:
        stage = rank_stage(trainer, rank, pad, split, ctx)
    else:
        stage = qa_stage(trainer, examples, pad, split, ctx)
    session = RunSession(run_dir, trainer, _run_info(run.meta), _continued_state(run.meta))
    minutes = args.max_minutes if args.max_minutes is not None else (None if args.max_steps else 2)
    deadline = started + minutes * 60 if minutes else None
    plan = session.make_plan(QA, args.max_steps, settings.lr * settings.qa_lr_ratio, deadline)
    run_stage(session, plan, stage)
    session.write_summary()
    return {**session.meta(), "run_dir": str(run_dir)}


def _run_info(meta: dict) -> dict:
    keys = ("architecture", "preset", "device", "world_size", "train_tokens", "val_tokens",
            "corpus_files", "tokenizer_fingerprint")  # fmt: skip
    return {k: meta[k] for k in keys if k in meta}


def _continued_state(meta: dict) -> dict:
    """A trainer state that continues the run's step and token counts and keeps its metrics."""
    return {
        "step": int(meta.get("step", 0)),
        "tokens_seen": int(meta.get("tokens_seen", 0)),
        "best": {"stage": None, "loss": math.inf},
        "latest": {"val_loss": meta.get("val_loss")},
        "wall_s": float(meta.get("train_wall_s") or 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = finetune(args)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        shutdown_distributed()
    print(f"fine-tuned to step {summary['step']}: QA validation loss "
          f"{summary['qa_val_loss']:.3f} -> {summary['run_dir']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
