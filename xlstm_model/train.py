"""Train the xLSTM language model: `python -m xlstm_model.train --corpus default --out default`.

Pre-trains on the papers (PDF or text), then trains the UPR re-ranker on ranking groups built from
them (`--qa rank`, the default) or fine-tunes on QA examples (`--qa FILE`), and writes a run
directory (see `xlstm_model.checkpoint`). Runs data-parallel under `torchrun`.

The whole of training is four files: this CLI (arguments, run set-up, the two stages in `train`),
`data` (corpus and token windows), `qa_data` (QA examples and ranking groups) and `loop`
(`run_stage` holds the optimizer step; `RunSession` the checkpoints and metrics).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from xlstm_model.checkpoint import (
    CONFIG_FILE,
    MODEL_FILE,
    RUN_FORMAT,
    TOKENIZER_FILE,
    build_model,
    has_checkpoint,
    last_dir,
    load_last,
    model_config_from_dict,
    read_json,
)
from xlstm_model.config import PRESETS, config_from_preset
from xlstm_model.data import (
    TokenSplit,
    check_split,
    corpus_units,
    data_dir,
    read_corpus,
    resolve_run_dir,
    split_tokens,
)
from xlstm_model.devices import default_preset, device_card
from xlstm_model.errors import ModelError
from xlstm_model.files import atomic_write_json
from xlstm_model.loop import (
    PRETRAIN,
    QA,
    TRAIN_PRESETS,
    DistInfo,
    RunSession,
    Trainer,
    TrainSettings,
    barrier,
    env_rank,
    init_distributed,
    pretrain_stage,
    qa_stage,
    rank_stage,
    run_stage,
    shutdown_distributed,
)
from xlstm_model.qa_data import Example, RankData, build_rank_data, load_qa_examples
from xlstm_model.reader_data import EncodedGroup, build_groups, split_groups
from xlstm_model.reader_stage import reader_stage
from xlstm_model.tokenizer import Tokenizer, tokenizer_fingerprint, train_tokenizer

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = 9.5  # + start-up, corpus cache check and final save: `make train` <= 10 min


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m xlstm_model.train", description=__doc__.split("\n")[0]
    )
    p.add_argument("--corpus", nargs="+", default=["default"], help='folders/files, or "default"')
    p.add_argument("--out", default="default", help='run directory, or "default"')
    p.add_argument(
        "--config",
        default="auto",
        help='preset: "auto" (gpu on CUDA, default on CPU), ' + ", ".join(TRAIN_PRESETS),
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        help=f"wall-clock budget (default {DEFAULT_MINUTES:g} without --max-steps)",
    )
    p.add_argument("--max-steps", type=int, help="optimizer steps (pre-training + QA)")
    p.add_argument(
        "--qa-fraction",
        type=float,
        help="share of the budget for the --qa stage (default: the preset's, 0.4 on CPU)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    p.add_argument("--resume", action="store_true", help="continue from <out>/last/")
    p.add_argument(
        "--if-missing", action="store_true", help="exit 0 if <out> already holds a model"
    )
    p.add_argument(
        "--qa",
        help='what the fine-tuning stage trains on: "rank" (default): the UPR re-ranker, '
        'listwise, on question-shaped groups built from the corpus; "reader": the reader head '
        "(does a unit answer, and where) on questions built from the corpus' units, with the "
        'next-token loss mixed in; "auto": inverse-cloze '
        'examples from the corpus; a QA JSONL file; "none": pre-training only',
    )
    p.add_argument("--stop-at-step", type=int, help="stop at this step as if interrupted (testing)")
    return p


@dataclass
class RunSpec:
    """What a run trains: preset name, model config and training settings."""

    preset: str
    model_config: object
    settings: TrainSettings
    qa: str = "rank"  # the --qa source; a resumed run keeps its own unless --qa is given


def resolve_spec(preset: str, run_dir: Path, resume: bool) -> RunSpec:
    """The preset's configs, or the recorded ones when resuming."""
    if resume:
        saved = read_json(run_dir / CONFIG_FILE, "run config")
        settings = TrainSettings.from_dict(saved.get("training", {}).get("settings", {}))
        model_config = model_config_from_dict(saved.get("model") or {})
        qa = saved.get("training", {}).get("qa") or "none"
        return RunSpec(saved.get("preset", preset), model_config, settings, qa)
    if preset not in PRESETS or preset not in TRAIN_PRESETS:
        names = ", ".join(sorted(set(PRESETS) & set(TRAIN_PRESETS)))
        msg = f"unknown --config {preset!r}; choose one of {names}"
        raise ModelError(msg)
    return RunSpec(preset, config_from_preset(preset), TRAIN_PRESETS[preset])


def clear_run_dir(run_dir: Path) -> None:
    """Removes an earlier run's weights and state, so old weights never meet a new tokenizer."""
    for name in (MODEL_FILE, "metrics.json", "metrics.jsonl", "loss.png"):
        (run_dir / name).unlink(missing_ok=True)
    for name in ("last", "last.old"):
        shutil.rmtree(run_dir / name, ignore_errors=True)


def prepare_tokenizer(
    texts: list[str], run_dir: Path, spec: RunSpec, info: DistInfo, resume: bool
) -> Tokenizer:
    """Trains the BPE on rank 0 (or reuses the run's when resuming); every rank loads the file."""
    path = run_dir / TOKENIZER_FILE
    if not resume and info.is_main:
        clear_run_dir(run_dir)
        keep = 1 - spec.settings.val_fraction  # the validation tails stay unseen
        train_texts = [t[: int(len(t) * keep)] for t in texts]
        train_tokenizer(train_texts, spec.settings.vocab_size).save(path)
    barrier(info)
    return Tokenizer.from_file(path)


def budget(args: argparse.Namespace, started: float, qa: bool, spec: RunSpec) -> dict:
    """Steps and deadlines of the two stages from --max-steps / --max-minutes."""
    minutes = (
        args.max_minutes
        if args.max_minutes is not None
        else (None if args.max_steps else DEFAULT_MINUTES)
    )
    share = args.qa_fraction if getattr(args, "qa_fraction", None) is not None else None
    qa_share = (spec.settings.qa_fraction if share is None else share) if qa else 0.0
    deadline = started + minutes * 60 if minutes else None
    out = {
        "pretrain_steps": None,
        "qa_steps": None,
        "pretrain_deadline": deadline,
        "qa_deadline": deadline,
    }
    if args.max_steps:
        qa_steps = max(1, round(args.max_steps * qa_share)) if qa else 0
        out.update(pretrain_steps=args.max_steps - qa_steps, qa_steps=qa_steps or None)
    if deadline and qa:
        out["pretrain_deadline"] = started + minutes * 60 * (1 - qa_share)
    return out


def write_run_config(
    run_dir: Path, spec: RunSpec, tokenizer: Tokenizer, args: argparse.Namespace, files: list[Path]
) -> None:
    atomic_write_json(
        run_dir / CONFIG_FILE,
        {
            "format": RUN_FORMAT,
            "architecture": "xlstm",
            "preset": spec.preset,
            "model": spec.model_config.to_dict(),
            "training": {
                "settings": spec.settings.to_dict(),
                "corpus": [f.name for f in files],
                "qa": spec.qa,
                "max_minutes": args.max_minutes,
                "max_steps": args.max_steps,
            },
            "tokenizer": tokenizer.info(),
        },
    )


@dataclass
class RunData:
    """The corpus as the run sees it, and what its QA stage trains on (at most one of the two)."""

    files: list[Path]
    texts: list[str]
    tokenizer: Tokenizer
    split: TokenSplit
    qa: tuple[list[Example], list[Example]] | None = None  # --qa FILE / auto: (train, val)
    rank: RankData | None = None  # --qa rank: ranking groups
    reader: tuple[list[EncodedGroup], list[EncodedGroup]] | None = None  # --qa reader

    def qa_stage(self, trainer: Trainer, context_length: int):
        """The QA stage's `Stage` (ranking groups or QA examples), validated on LM loss too."""
        pad, split = self.tokenizer.pad_id, self.split
        if self.reader is not None:
            return reader_stage(trainer, self.reader, pad, split, context_length)
        if self.rank is not None:
            return rank_stage(trainer, self.rank, pad, split, context_length)
        return qa_stage(trainer, self.qa, pad, split, context_length)


def prepare_data(args: argparse.Namespace, spec: RunSpec, run_dir: Path, info: DistInfo) -> RunData:
    """Reads the corpus, trains (or reloads) the tokenizer, splits tokens, builds QA examples."""
    files, texts = read_corpus(args.corpus)
    tokenizer = prepare_tokenizer(texts, run_dir, spec, info, args.resume)
    ctx, settings = spec.model_config.context_length, spec.settings
    split = split_tokens(tokenizer.encode_batch(texts), tokenizer.eot_id, settings.val_fraction)
    check_split(split, ctx, settings.batch_size * info.world_size)
    spec.qa = args.qa or spec.qa
    data = RunData(files, texts, tokenizer, split)
    if spec.qa == "rank":
        s = settings
        data.rank = build_rank_data(tokenizer, texts, s.rank_groups, s.seed, s.val_fraction)
    elif spec.qa == "reader":
        units = corpus_units(files, cache_dir=data_dir() / "cache" / "corpus_units")
        groups = build_groups(units, settings.seed)
        data.reader = split_groups(tokenizer, groups, ctx)
        spec.model_config = replace(spec.model_config, reader_head=True)
    elif spec.qa != "none":
        data.qa = load_qa_examples(spec.qa, tokenizer, texts, settings, ctx)
    return data


def _run_info(spec: RunSpec, device: torch.device, info, data: RunData, compiled: bool) -> dict:
    card = device_card(device, spec.preset, spec.model_config.kernels, compiled)
    return {
        "architecture": "xlstm",
        **card,  # preset, device, precision, torch_compile, kernels (path or fallback reason)
        "world_size": info.world_size,
        "train_tokens": len(data.split.train),
        "val_tokens": len(data.split.val),
        "corpus_files": len(data.files),
        "tokenizer_fingerprint": tokenizer_fingerprint(data.tokenizer),
    }


def train(args: argparse.Namespace) -> dict:
    """Runs (or resumes) training as `args` says: pre-training, then the QA stage (each a call
    of `loop.run_stage`, which holds the optimizer step); returns the run's summary."""
    started = time.monotonic()
    info, device = init_distributed(args.device)
    run_dir = resolve_run_dir(args.out)
    if args.resume and last_dir(run_dir) is None:
        msg = f"nothing to resume in {run_dir} (no last/ checkpoint); run without --resume"
        raise ModelError(msg)
    preset = default_preset(device) if args.config == "auto" else args.config
    spec = resolve_spec(preset, run_dir, args.resume)
    data = prepare_data(args, spec, run_dir, info)
    spec.model_config = replace(spec.model_config, vocab_size=data.tokenizer.vocab_size)
    torch.manual_seed(spec.settings.seed)
    trainer = Trainer(build_model(spec.model_config), spec.settings, device, info)
    state = load_last(run_dir, trainer.model, trainer.optimizer) if args.resume else None
    if info.is_main and not args.resume:
        write_run_config(run_dir, spec, data.tokenizer, args, data.files)
    run_info = _run_info(spec, device, info, data, args.compile)  # loads the CUDA kernels
    if args.compile:
        trainer.wrapped = torch.compile(trainer.wrapped)
    session = RunSession(run_dir, trainer, run_info, state)
    has_qa = data.qa is not None or data.rank is not None or data.reader is not None
    plan, ctx, s = (
        budget(args, started, has_qa, spec),
        spec.model_config.context_length,
        spec.settings,
    )
    if QA not in session.plans and not session.stage_finished(PRETRAIN):
        steps, deadline = plan["pretrain_steps"], plan["pretrain_deadline"]
        stage_plan = session.make_plan(PRETRAIN, steps, s.lr, deadline, args.stop_at_step)
        run_stage(session, stage_plan, pretrain_stage(trainer, data.split, ctx))
    stopped = args.stop_at_step is not None and trainer.step >= args.stop_at_step
    if has_qa and not stopped and not session.stage_finished(QA):
        steps, deadline, lr = plan["qa_steps"], plan["qa_deadline"], s.lr * s.qa_lr_ratio
        stage_plan = session.make_plan(QA, steps, lr, deadline, args.stop_at_step)
        run_stage(session, stage_plan, data.qa_stage(trainer, ctx))
    session.write_summary()
    return {**session.meta(), "best": session.best, "run_dir": str(run_dir)}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.qa_fraction is not None and not 0 < args.qa_fraction < 1:
            msg = f"--qa-fraction {args.qa_fraction:g}: give a share between 0 and 1, e.g. 0.2"
            raise ModelError(msg)
        run_dir = resolve_run_dir(args.out)
        if args.if_missing and has_checkpoint(run_dir):
            print(f"a trained model already exists in {run_dir}; nothing to do")
            return 0
        summary = train(args)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        shutdown_distributed()
    if summary.get("val_ppl") is not None and env_rank() == 0:
        print(
            f"trained {summary['params']:,} parameters for {summary['step']} steps "
            f"({summary['tokens_seen']:,} tokens, {summary['train_wall_s']:.0f} s): "
            f"validation perplexity {summary['val_ppl']:.2f} -> {summary['run_dir']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
