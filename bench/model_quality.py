"""Section 5 of the benchmarks: validation perplexity at equal parameters and training tokens.

A miniature of the xLSTM paper's Table 1 on the papers corpus: xLSTM[1:0] (mLSTM only),
xLSTM[3:1] (one sLSTM block in four) and a GPT of matched size see the same batches.
"""

from __future__ import annotations

import math
import time

import torch

from bench.model_baselines import gpt_matching, num_params, xlstm_lm
from xlstm_model.data import BlockSampler, read_corpus, split_tokens, val_blocks
from xlstm_model.loop import DistInfo, Trainer, TrainSettings, lr_at
from xlstm_model.tokenizer import train_tokenizer


def _corpus_split(corpus: list[str], vocab: int, ctx: int):
    texts = read_corpus(corpus)[1]
    tokenizer = train_tokenizer(texts, vocab)
    split = split_tokens(tokenizer.encode_batch(texts), tokenizer.eot_id)
    return tokenizer.vocab_size, split


def _train_and_eval(model, split, settings: TrainSettings, ctx: int, steps: int) -> dict:
    trainer = Trainer(model, settings, torch.device("cpu"), DistInfo())
    sampler = BlockSampler(split.train, ctx, settings.batch_size, seed=settings.seed)
    start = time.perf_counter()
    for step in range(steps):
        lr = lr_at(step, steps, settings.lr, settings.warmup_steps, settings.min_lr_ratio)
        _optimizer_step(trainer, *sampler.next_batch(), lr)
    seconds = time.perf_counter() - start
    blocks = val_blocks(split.val, ctx, settings.eval_blocks)
    val_loss = trainer.evaluate((b[:, :-1], b[:, 1:]) for b in blocks.split(16))
    return {
        "tokens": trainer.tokens_seen,
        "train_s": seconds,
        "val_loss": val_loss,
        "val_ppl": math.exp(val_loss),
    }


def _optimizer_step(trainer: Trainer, inputs: torch.Tensor, targets: torch.Tensor, lr: float):
    """One AdamW step as `xlstm_model.loop.run_stage` takes it (single process, CPU)."""
    trainer.model.train()
    for group in trainer.optimizer.param_groups:
        group["lr"] = lr
    _, loss = trainer.model(inputs, targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), trainer.settings.grad_clip)
    trainer.optimizer.step()
    trainer.optimizer.zero_grad(set_to_none=True)
    trainer.step += 1
    trainer.tokens_seen += inputs.numel()


def quality(corpus: list[str], steps: int, quick: bool) -> list[dict]:
    """Trains each model for `steps` identical batches; returns their validation perplexity."""
    dim, blocks, ctx, vocab = (32, 4, 32, 384) if quick else (128, 4, 128, 4096)
    vocab, split = _corpus_split(corpus, vocab, ctx)
    settings = TrainSettings(
        batch_size=4 if quick else 16,
        lr=2e-3,
        warmup_steps=max(1, steps // 10),
        eval_blocks=8 if quick else 256,
    )
    builders = {
        "xLSTM[1:0]": lambda: xlstm_lm(vocab, dim, blocks, ctx, slstm_at=()),
        "xLSTM[3:1]": lambda: xlstm_lm(vocab, dim, blocks, ctx, slstm_at=(1,)),
    }
    reference = num_params(builders["xLSTM[1:0]"]())
    builders["GPT"] = lambda: gpt_matching(reference, vocab, blocks, ctx)
    rows = []
    for name, build in builders.items():
        torch.manual_seed(0)
        model = build()
        result = _train_and_eval(model, split, settings, ctx, steps)
        rows.append({"model": name, "params": num_params(model), "context": ctx, **result})
    return rows
