"""Speed and memory measurements for `python -m bench.model` (sections 1-4)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from bench.model_baselines import OfficialLM, gpt_lm, gpt_matching, num_params, state_bytes


def best_seconds(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> float:
    """Fastest of `repeats` timed calls after `warmup` calls (robust to other processes)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_matmul_flops(n: int = 1024, repeats: int = 5) -> float:
    """Best fp32 matmul rate (FLOP/s) of this machine: 2 n^3 per n x n product."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = min(
        best_seconds(lambda: a @ b, repeats=1, warmup=1 if i == 0 else 0) for i in range(repeats)
    )
    return 2 * n**3 / best


def train_tokens_per_s(
    model: torch.nn.Module, vocab: int, batch: int, ctx: int, steps: int
) -> float:
    """Tokens/s of forward + backward + AdamW on random tokens (after one warm-up step)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    idx = torch.randint(0, vocab, (batch, ctx + 1))
    model.train()

    def step() -> None:
        _, loss = model(idx[:, :-1], idx[:, 1:])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return batch * ctx / best_seconds(step, repeats=steps)


def default_mfu(steps: int, quick: bool) -> dict:
    """Section 1: the default config's training tokens/s and model-FLOPs utilisation."""
    from xlstm_model.config import config_from_preset, flops_per_token
    from xlstm_model.loop import TRAIN_PRESETS
    from xlstm_model.model import XLSTMLM

    overrides = {"context_length": 64} if quick else {}
    config = config_from_preset("tiny" if quick else "default", **overrides)
    batch = 2 if quick else TRAIN_PRESETS["default"].batch_size
    peak = peak_matmul_flops(256 if quick else 1024)
    rate = train_tokens_per_s(
        XLSTMLM(config), config.vocab_size, batch, config.context_length, steps
    )
    fpt = flops_per_token(config)
    return {
        "config": "tiny" if quick else "default",
        "params": num_params(XLSTMLM(config)),
        "batch": batch,
        "context": config.context_length,
        "tokens_per_s": rate,
        "flops_per_token": fpt,
        "peak_flops": peak,
        "mfu": rate * fpt / peak,
    }


def stack_comparison(contexts: list[int], dim: int, blocks: int, batch: int, steps: int) -> list:
    """Section 2: training tokens/s of our mLSTM stack vs the official one vs a GPT stack."""
    from bench.model_baselines import xlstm_lm

    vocab, rows = 256, []
    for ctx in contexts:
        models = {
            "ours (chunkwise)": lambda c=ctx: xlstm_lm(vocab, dim, blocks, c),
            "official xlstm (parallel)": lambda c=ctx: OfficialLM(vocab, dim, blocks, c),
            "GPT (causal SDPA)": lambda c=ctx: gpt_lm(vocab, dim, blocks, c),
        }
        for name, build in models.items():
            torch.manual_seed(0)
            model = build()
            rate = train_tokens_per_s(model, vocab, batch, ctx, steps)
            rows.append(
                {"context": ctx, "model": name, "params": num_params(model), "tokens_per_s": rate}
            )
    return rows


def _backend_inputs(S: int, B: int = 1, NH: int = 4, DH: int = 64):
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, NH, S, DH) for _ in range(3))
    return q, k, v, torch.randn(B, NH, S, 1), torch.randn(B, NH, S, 1) + 3.0


def _backend_fn(form: str) -> Callable:
    from xlstm_model import backends

    return {
        "parallel": backends.mlstm_parallel,
        "chunkwise": lambda *xs: backends.mlstm_chunkwise(*xs, chunk_size=64)[0],
        "recurrent": lambda *xs: backends.mlstm_recurrent(*xs)[0],
    }[form]


def _proc_status_bytes(field: str) -> int:
    """VmRSS / VmHWM (peak RSS of this process image) from /proc/self/status."""
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024  # kB


def _reset_peak_rss() -> None:
    """Resets VmHWM to the current RSS where the kernel allows it (clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def backend_worker(form: str, S: int, repeats: int) -> dict:
    """Forward time and peak-RSS growth (VmHWM - VmRSS before) of one backend call."""
    torch.set_num_threads(1)  # the forms' algorithms, not threading; decode-like small ops
    inputs, fn = _backend_inputs(S), _backend_fn(form)
    _reset_peak_rss()
    before = _proc_status_bytes("VmRSS")
    with torch.no_grad():
        seconds = best_seconds(lambda: fn(*inputs), repeats=repeats)
    peak = _proc_status_bytes("VmHWM")
    return {"form": form, "context": S, "seconds": seconds, "peak_bytes": max(0, peak - before)}


def backend_scaling(contexts: list[int], parallel_max: int, fresh_process: bool) -> list:
    """Section 3: parallel vs chunkwise vs recurrent forward time and peak memory."""
    rows = []
    for S in contexts:
        for form in ("parallel", "chunkwise", "recurrent"):
            if form == "parallel" and parallel_max < S:
                gib = 6 * 4 * S * S * 4 / 2**30  # ~6 (B, NH, S, S) fp32 matrices
                rows.append({"form": form, "context": S, "skipped": f"needs ~{gib:.0f} GiB"})
                continue
            repeats = 1 if form == "recurrent" or S >= 4096 else 3
            if fresh_process:
                rows.append(_in_subprocess(form, S, repeats))
            else:
                rows.append(backend_worker(form, S, repeats))
    return rows


def _in_subprocess(form: str, S: int, repeats: int) -> dict:
    code = (
        "import json, sys; from bench.model_speed import backend_worker; "
        f"print(json.dumps(backend_worker({form!r}, {S}, {repeats})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@torch.no_grad()
def _decode_rate(model: torch.nn.Module, prompt: torch.Tensor, new_tokens: int) -> dict:
    model.eval()
    start = time.perf_counter()
    logits, state = model.prefill(prompt)
    prefill_s = time.perf_counter() - start
    token = logits.reshape(-1, logits.shape[-1])[-1:].argmax(-1)  # (1,)
    start = time.perf_counter()
    for _ in range(new_tokens):
        logits, state = model.step(token, state)
        token = logits.reshape(-1, logits.shape[-1])[-1:].argmax(-1)
    decode_s = time.perf_counter() - start
    return {
        "prefill_s": prefill_s,
        "decode_tokens_per_s": new_tokens / decode_s,
        "state_bytes": state_bytes(state),
    }


def generation(contexts: list[int], new_tokens: int, quick: bool) -> list:
    """Section 4: decode tokens/s and state/KV-cache size after prompts of growing length.

    Runs on one thread: batch-1 decoding is bound by per-operation overhead, and on a loaded
    2-core machine two threads make it about 10x slower.
    """
    from xlstm_model.config import config_from_preset
    from xlstm_model.model import XLSTMLM

    config = config_from_preset("tiny" if quick else "default")
    torch.manual_seed(0)
    models = {"xLSTM": XLSTMLM(config)}
    models["GPT + KV cache"] = gpt_matching(
        num_params(models["xLSTM"]), config.vocab_size, config.num_blocks, config.context_length
    )
    rows, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for ctx in contexts:
            prompt = torch.randint(0, config.vocab_size, (1, ctx))
            for name, model in models.items():
                row = _decode_rate(model, prompt, new_tokens)
                rows.append({"model": name, "params": num_params(model), "context": ctx, **row})
    finally:
        torch.set_num_threads(threads)
    return rows


def fmt_bytes(n: float) -> str:
    if n <= 0:
        return "0"
    exp = min(int(math.log(n, 1024)), 3)
    return f"{n / 1024**exp:.1f} {['B', 'KiB', 'MiB', 'GiB'][exp]}"
