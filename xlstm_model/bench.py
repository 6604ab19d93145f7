"""Benchmarks: `python -m xlstm_model.bench [--quick] [--out DIR]`.

1. training tokens/s and model-FLOPs utilisation of the default config (peak = matmul rate);
2. training tokens/s: our chunkwise mLSTM stack vs the official `xlstm` parallel stack vs GPT;
3. mLSTM parallel vs chunkwise vs recurrent: forward time and peak memory as context grows;
4. generation tokens/s and state / KV-cache size vs context, xLSTM vs GPT with a KV cache;
5. validation perplexity at equal parameters and tokens: xLSTM[1:0], xLSTM[3:1], GPT.
Peak memory (3) is the growth of the peak resident set size (getrusage ru_maxrss) over the RSS
before the call, each measurement in a fresh process; --quick measures in-process (a lower bound).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from xlstm_model import bench_quality, bench_speed
from xlstm_model.bench_speed import fmt_bytes
from xlstm_model.checkpoint import atomic_write_json
from xlstm_model.errors import ModelError


def table(title: str, header: list[str], rows: list[list]) -> str:
    """A fixed-width text table."""
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"\n## {title}", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)


def _show_mfu(r: dict) -> str:
    return table("1. Training throughput and MFU (CPU)", ["config", "params", "batch x ctx", "tokens/s", "GFLOP/token", "peak GFLOP/s", "MFU"],
                 [[r["config"], f"{r['params']:,}", f"{r['batch']} x {r['context']}", f"{r['tokens_per_s']:,.0f}",
                   f"{r['flops_per_token'] / 1e9:.4f}", f"{r['peak_flops'] / 1e9:.1f}", f"{100 * r['mfu']:.1f}%"]])  # fmt: skip


def _show_stacks(rows: list[dict]) -> str:
    base = {r["context"]: r["tokens_per_s"] for r in rows if r["model"].startswith("official")}
    return table("2. Training tokens/s of 4-block stacks (batch 8)", ["context", "model", "params", "tokens/s", "vs official"],
                 [[r["context"], r["model"], f"{r['params']:,}", f"{r['tokens_per_s']:,.0f}",
                   f"{r['tokens_per_s'] / base[r['context']]:.2f}x"] for r in rows])  # fmt: skip


def _show_backends(rows: list[dict]) -> str:
    return table("3. mLSTM forms, forward (B=1, NH=4, DH=64)", ["context", "form", "time", "peak memory"],
                 [[r["context"], r["form"], r.get("skipped") or f"{1000 * r['seconds']:.1f} ms",
                   "" if "skipped" in r else fmt_bytes(r["peak_bytes"])] for r in rows])  # fmt: skip


def _show_generation(rows: list[dict]) -> str:
    return table("4. Generation after a prompt of `context` tokens", ["context", "model", "params", "prefill", "decode tokens/s", "state / KV cache"],
                 [[r["context"], r["model"], f"{r['params']:,}", f"{1000 * r['prefill_s']:.0f} ms",
                   f"{r['decode_tokens_per_s']:,.1f}", fmt_bytes(r["state_bytes"])] for r in rows])  # fmt: skip


def _show_quality(rows: list[dict]) -> str:
    return table("5. Validation perplexity at equal parameters and tokens (papers corpus)", ["model", "params", "tokens", "train time", "val ppl"],
                 [[r["model"], f"{r['params']:,}", f"{r['tokens']:,}", f"{r['train_s']:.0f} s",
                   f"{r['val_ppl']:.2f}"] for r in rows])  # fmt: skip


def run_sections(args: argparse.Namespace) -> dict:
    quick, results = args.quick, {}
    steps = 2 if quick else 5
    sections = {
        "mfu": (lambda: bench_speed.default_mfu(steps, quick), _show_mfu),
        "stacks": (lambda: bench_speed.stack_comparison([32] if quick else [256, 1024], 32 if quick else 256, 4, 2 if quick else 8, steps), _show_stacks),
        "backends": (lambda: bench_speed.backend_scaling([64, 128] if quick else [256, 512, 1024, 2048, 4096, 8192], 4096, not quick), _show_backends),
        "generation": (lambda: bench_speed.generation([16, 64] if quick else [256, 1024, 4096], 4 if quick else 64, quick), _show_generation),
        "quality": (lambda: bench_quality.quality(args.corpus, args.quality_steps or (3 if quick else 300), quick), _show_quality),
    }  # fmt: skip
    for name in args.sections:
        start = time.perf_counter()
        measure, show = sections[name]
        results[name] = measure()
        print(show(results[name]), f"\n({time.perf_counter() - start:.0f} s)", flush=True)
    return results


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version()}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m xlstm_model.bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")
    p.add_argument("--out", default="bench-out", help="folder for bench.json")
    p.add_argument("--corpus", nargs="+", default=["default"], help="corpus of section 5")
    p.add_argument("--quality-steps", type=int, help="training steps per model in section 5")
    p.add_argument("--sections", nargs="+", default=["mfu", "stacks", "backends", "generation", "quality"],
                   choices=["mfu", "stacks", "backends", "generation", "quality"])  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    info = machine()
    print(f"machine: {info['processor']}, {info['cpus']} CPUs, torch {info['torch']} ({info['torch_threads']} threads)")
    try:
        results = run_sections(args)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    atomic_write_json(out / "bench.json", {"machine": info, "quick": args.quick, "results": results})
    print(f"\nwrote {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
