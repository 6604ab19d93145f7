"""Benchmarks: `python -m bench.model [--quick] [--out DIR]`.

1. training tokens/s and model-FLOPs utilisation of the default config (peak = matmul rate);
2. training tokens/s: our chunkwise mLSTM stack vs the official `xlstm` parallel stack vs GPT;
3. mLSTM parallel vs chunkwise vs recurrent: forward time and peak memory as context grows;
4. generation tokens/s and state / KV-cache size vs context, xLSTM vs GPT with a KV cache;
5. validation perplexity at equal parameters and tokens: xLSTM[1:0], xLSTM[3:1], GPT.

Times are the best of a few runs. Peak memory (3) is the growth of the peak resident set size
(VmHWM in /proc/self/status, reset through /proc/self/clear_refs) over the RSS just before the
call, each measurement in a fresh process; --quick measures in-process, where memory freed by an
earlier measurement is reused and the growth is understated.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bench import model_quality, model_speed
from bench.model_speed import fmt_bytes
from xlstm_model.errors import ModelError
from xlstm_model.files import atomic_write_json

SECTIONS = ("mfu", "stacks", "backends", "generation", "quality")


@dataclass(frozen=True)
class Sizes:
    """Everything --quick shrinks."""

    timed_steps: int = 5
    stack_contexts: tuple[int, ...] = (256, 1024)
    stack_dim: int = 256
    stack_batch: int = 8
    backend_contexts: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192)
    parallel_max: int = 4096  # the parallel form beyond this needs several GiB
    fresh_process: bool = True
    gen_contexts: tuple[int, ...] = (256, 1024, 4096)
    gen_tokens: int = 64
    quality_steps: int = 150


QUICK = Sizes(1, (32,), 32, 2, (64, 128), 4096, False, (16, 32), 4, 2)

Column = tuple[str, Callable[[dict], object]]
COLUMNS: dict[str, tuple[str, list[Column]]] = {
    "mfu": ("1. Training throughput and model-FLOPs utilisation (CPU)", [
        ("config", lambda r: r["config"]), ("params", lambda r: f"{r['params']:,}"),
        ("batch x ctx", lambda r: f"{r['batch']} x {r['context']}"),
        ("tokens/s", lambda r: f"{r['tokens_per_s']:,.0f}"),
        ("MFLOP/token", lambda r: f"{r['flops_per_token'] / 1e6:.1f}"),
        ("peak GFLOP/s", lambda r: f"{r['peak_flops'] / 1e9:.1f}"),
        ("MFU", lambda r: f"{100 * r['mfu']:.1f}%")]),
    "stacks": ("2. Training tokens/s of 4-block stacks, width 256, batch 8", [
        ("context", lambda r: r["context"]), ("model", lambda r: r["model"]),
        ("params", lambda r: f"{r['params']:,}"),
        ("tokens/s", lambda r: f"{r['tokens_per_s']:,.0f}"),
        ("vs official", lambda r: f"{r['vs_official']:.2f}x")]),
    "backends": ("3. mLSTM forms, forward pass (B=1, NH=4, DH=64, 1 thread)", [
        ("context", lambda r: r["context"]), ("form", lambda r: r["form"]),
        ("time", lambda r: r.get("skipped") or f"{1000 * r['seconds']:.1f} ms"),
        ("peak memory", lambda r: "" if "skipped" in r else fmt_bytes(r["peak_bytes"]))]),
    "generation": ("4. Generation after a prompt of `context` tokens (batch 1, 1 thread)", [
        ("context", lambda r: r["context"]), ("model", lambda r: r["model"]),
        ("params", lambda r: f"{r['params']:,}"),
        ("prefill", lambda r: f"{1000 * r['prefill_s']:.0f} ms"),
        ("decode tokens/s", lambda r: f"{r['decode_tokens_per_s']:,.1f}"),
        ("state / KV cache", lambda r: fmt_bytes(r["state_bytes"]))]),
    "quality": ("5. Validation perplexity at equal parameters and training tokens", [
        ("model", lambda r: r["model"]), ("params", lambda r: f"{r['params']:,}"),
        ("tokens", lambda r: f"{r['tokens']:,}"), ("train time", lambda r: f"{r['train_s']:.0f} s"),
        ("val ppl", lambda r: f"{r['val_ppl']:.2f}")]),
}  # fmt: skip


def table(title: str, columns: list[Column], rows: list[dict]) -> str:
    """A fixed-width text table of `rows` under `title`."""
    cells = [[h for h, _ in columns], *[[str(f(r)) for _, f in columns] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [f"\n## {title}"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[:1]]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    return "\n".join(lines)


def measure(name: str, sizes: Sizes, args: argparse.Namespace) -> list[dict]:
    """Runs one section; every section returns a list of rows."""
    quick = args.quick
    if name == "mfu":
        return [model_speed.default_mfu(sizes.timed_steps, quick)]
    if name == "stacks":
        rows = model_speed.stack_comparison(
            list(sizes.stack_contexts), sizes.stack_dim, 4, sizes.stack_batch, sizes.timed_steps
        )
        base = {r["context"]: r["tokens_per_s"] for r in rows if r["model"].startswith("official")}
        return [{**r, "vs_official": r["tokens_per_s"] / base[r["context"]]} for r in rows]
    if name == "backends":
        contexts = list(sizes.backend_contexts)
        return model_speed.backend_scaling(contexts, sizes.parallel_max, sizes.fresh_process)
    if name == "generation":
        return model_speed.generation(list(sizes.gen_contexts), sizes.gen_tokens, quick)
    steps = args.quality_steps or sizes.quality_steps
    return model_quality.quality(args.corpus, steps, quick)


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.model", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")
    p.add_argument("--out", default="bench-out", help="folder for bench.json")
    p.add_argument("--corpus", nargs="+", default=["default"], help="corpus of section 5")
    p.add_argument("--quality-steps", type=int, help="training steps per model in section 5")
    p.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    return p


def run_section(name: str, sizes: Sizes, args: argparse.Namespace) -> tuple[list, dict]:
    """Measures and prints one section; returns its rows and how long it took under what load."""
    start, load = time.perf_counter(), os.getloadavg()[0]
    rows = measure(name, sizes, args)
    seconds = time.perf_counter() - start
    title, columns = COLUMNS[name]
    print(table(title, columns, rows))
    print(f"({seconds:.0f} s; 1-minute load average {load:.1f} before)", flush=True)
    return rows, {"seconds": seconds, "load_before": load, "load_after": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    info, sizes, results, timing = machine(), QUICK if args.quick else Sizes(), {}, {}
    print(f"machine: {info['processor']}, {info['cpus']} CPUs, torch {info['torch']}")
    try:
        for name in args.sections:
            results[name], timing[name] = run_section(name, sizes, args)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    report = {"machine": info, "quick": args.quick, "sections": timing, "results": results}
    atomic_write_json(out / "bench.json", report)
    print(f"\nwrote {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
