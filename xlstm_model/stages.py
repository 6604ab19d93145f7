"""The two training stages on a RunSession: pre-training on corpus windows, then QA fine-tuning."""

from __future__ import annotations

import math

from xlstm_model.data import BlockSampler, TokenSplit, val_blocks
from xlstm_model.loop import StageHooks, StagePlan, run_stage
from xlstm_model.qa_dataset import Example, QASampler, qa_val_batches
from xlstm_model.rank_dataset import RankData, collate_groups, evaluate_ranking, make_loss_fn
from xlstm_model.session import RunSession
from xlstm_model.trainer import shard_batches

PRETRAIN, QA = "pretrain", "qa"


def make_plan(
    session: RunSession,
    name: str,
    total_steps: int | None,
    peak_lr: float,
    deadline: float | None,
    stop_at_step: int | None,
) -> StagePlan:
    """A stage plan, continuing the recorded one when resuming."""
    prior = session.plans.get(name) or {}
    first = prior.get("first_step", session.trainer.step)
    adaptive = total_steps is None and bool(prior.get("adaptive"))
    if total_steps is None:
        total_steps = prior.get("total_steps")
    return StagePlan(name, first, total_steps, peak_lr, deadline, stop_at_step, adaptive)


def stage_finished(session: RunSession, name: str) -> bool:
    plan = session.plans.get(name)
    if not plan or plan["total_steps"] is None:
        return False
    return session.trainer.step >= plan["first_step"] + plan["total_steps"]


def _lm_evaluator(session: RunSession, split: TokenSplit, context_length: int):
    trainer, s = session.trainer, session.trainer.settings
    blocks = val_blocks(split.val, context_length, s.eval_blocks)
    batches = shard_batches(blocks, s.batch_size, trainer.info)

    def evaluate() -> dict:
        loss = trainer.evaluate(batches())
        return {"val_loss": loss, "val_ppl": math.exp(loss)}

    return evaluate


def run_pretrain(session: RunSession, plan: StagePlan, split: TokenSplit, context_length: int):
    """Language-model pre-training on shuffled windows of the training stream."""
    trainer, s, info = session.trainer, session.trainer.settings, session.trainer.info
    sampler = BlockSampler(
        split.train, context_length, s.batch_size, s.seed, info.rank, info.world_size
    )
    session.register(plan, sampler)
    evaluate = _lm_evaluator(session, split, context_length)
    run_stage(trainer, plan, sampler, StageHooks(evaluate, session.on_eval, session.log))


def run_qa(
    session: RunSession,
    plan: StagePlan,
    examples: tuple[list[Example], list[Example]],
    pad_id: int,
    lm_split: TokenSplit | None = None,
    context_length: int = 0,
) -> None:
    """Fine-tuning on QA examples; validation reports QA loss (and LM perplexity if given)."""
    trainer, s, info = session.trainer, session.trainer.settings, session.trainer.info
    train, val = examples
    sampler = QASampler(train, s.batch_size, pad_id, s.seed, info.rank, info.world_size)
    session.register(plan, sampler)
    qa_batches = qa_val_batches(val, s.batch_size, pad_id, info.rank, info.world_size)
    lm_evaluate = _lm_evaluator(session, lm_split, context_length) if lm_split else None

    def evaluate() -> dict:
        metrics = {"qa_val_loss": trainer.evaluate(qa_batches())}
        return {**metrics, **(lm_evaluate() if lm_evaluate else {})}

    run_stage(trainer, plan, sampler, StageHooks(evaluate, session.on_eval, session.log))


def run_rank(
    session: RunSession,
    plan: StagePlan,
    data: RankData,
    pad_id: int,
    lm_split: TokenSplit | None = None,
    context_length: int = 0,
) -> None:
    """The QA stage as re-ranker training: listwise loss over ranking groups (`rank_dataset`).

    Validation reports the listwise loss as `qa_val_loss` (the stage's best-model key), the
    share of held-out groups ranked right, and LM perplexity if `lm_split` is given."""
    trainer, s, info = session.trainer, session.trainer.settings, session.trainer.info
    sampler = QASampler(
        data.train, s.rank_groups, pad_id, s.seed, info.rank, info.world_size, collate_groups
    )
    session.register(plan, sampler)
    lm_evaluate = _lm_evaluator(session, lm_split, context_length) if lm_split else None

    def evaluate() -> dict:
        ranking = evaluate_ranking(trainer.model, data.val, pad_id, trainer.device)
        metrics = {"qa_val_loss": ranking["rank_val_loss"], **ranking}
        return {**metrics, **(lm_evaluate() if lm_evaluate else {})}

    hooks = StageHooks(evaluate, session.on_eval, session.log)
    run_stage(trainer, plan, sampler, hooks, make_loss_fn(data.group_size))


def run_finetune(
    session: RunSession,
    plan: StagePlan,
    data: RankData | tuple[list[Example], list[Example]],
    pad_id: int,
    lm_split: TokenSplit | None = None,
    context_length: int = 0,
) -> None:
    """The QA stage for what `qa_dataset.load_qa` built: ranking groups or QA examples."""
    stage = run_rank if isinstance(data, RankData) else run_qa
    stage(session, plan, data, pad_id, lm_split, context_length)
