"""The one device check of issue 13: `python -m bench.gpu_check --out DIR`.

Sections (one printed line per figure; all figures in DIR/gpu_check.json, rewritten after each):
- equality (CUDA): the mLSTM TFLA kernel vs the PyTorch chunkwise reference (forward, input
  gradients, last state, recurrent step; float32) and the sLSTM CUDA kernel vs the PyTorch loop
  (forward, gradients; bf16 autocast as in training, float32 with --slstm-fp32), as relative
  errors ||kernel - reference|| / ||reference||.
- speed (any device): training tokens/s (median step) and MFU (6 N FLOPs per token over
  --peak-tflops) of this project, eager and with --compile, vs the official `xlstm` package,
  on the issue's configs (batch 32 x 512, D 384, 12 blocks, vocab 8192; xLSTM[1:0] and [5:1]
  with sLSTM at 3, 9) or --size default / tiny.
- train (CUDA): `python -m xlstm_model.train` for --train-minutes on --corpus with the GPU
  preset; its validation perplexity.
On a machine without CUDA the CUDA sections print why they were skipped. --export-corpus DIR
writes the default corpus as .txt files (for a device without the PDF extractor).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

SIZES = {  # name -> list of (label, model kwargs, batch, context)
    "issue": [
        ("xLSTM[1:0]", dict(vocab=8192, dim=384, blocks=12, slstm_at=[]), 32, 512),
        ("xLSTM[5:1]", dict(vocab=8192, dim=384, blocks=12, slstm_at=[3, 9]), 32, 512),
    ],
    "default": [("default", dict(vocab=4096, dim=128, blocks=4, slstm_at=[1]), 16, 256)],
    "tiny": [("tiny", dict(vocab=64, dim=32, blocks=2, slstm_at=[1]), 2, 64)],
}
EQUALITY_SHAPES = {"issue": (8, 4, 512, 192), "default": (4, 4, 256, 64), "tiny": (1, 2, 64, 16)}


class Report:
    """Figures printed one per line and kept in a JSON file (saved after every figure)."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path, self.figures = out / "gpu_check.json", {}

    def add(self, key: str, value, unit: str = "") -> None:
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key}: {shown} {unit}".rstrip(), flush=True)
        self.figures[key] = value
        self.path.write_text(json.dumps(self.figures, indent=1))


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def check_mlstm(report: Report, shape: tuple[int, int, int, int]) -> None:
    """TFLA kernel vs the PyTorch chunkwise form in float32 (Triton dots may use tf32)."""
    from xlstm_model.backends import mlstm_chunkwise, mlstm_recurrent_step
    from xlstm_model.mlstm_kernel import mlstm_chunkwise_kernel, mlstm_step_kernel

    B, NH, S, DH = shape
    gen = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(B, NH, S, DH, device="cuda", generator=gen) for _ in range(3))
    i = torch.randn(B, NH, S, 1, device="cuda", generator=gen)
    f = torch.randn(B, NH, S, 1, device="cuda", generator=gen) + 3.0
    inputs = [x.requires_grad_() for x in (q, k, v, i, f)]
    h_ref, state_ref = mlstm_chunkwise(*inputs, chunk_size=64)
    h, state = mlstm_chunkwise_kernel(*inputs)
    report.add("equality.mlstm.forward_rel_err", rel_error(h, h_ref))
    weights = torch.randn_like(h_ref)
    grads_ref = torch.autograd.grad((h_ref * weights).sum(), inputs)
    grads = torch.autograd.grad((h * weights).sum(), inputs)
    for name, g, g_ref in zip(("q", "k", "v", "igate", "fgate"), grads, grads_ref, strict=True):
        report.add(f"equality.mlstm.grad_{name}_rel_err", rel_error(g, g_ref))
    c_ref = state_ref[0].double() * state_ref[2].double().exp()
    report.add("equality.mlstm.last_state_rel_err", rel_error(state[0] * state[2].exp(), c_ref))
    step_in = [torch.randn(B, NH, 1, DH, device="cuda") for _ in range(3)]
    step_in += [torch.randn(B, NH, 1, 1, device="cuda"), torch.randn(B, NH, 1, 1, device="cuda")]
    detached = tuple(s.detach() for s in state_ref)
    h_step_ref, _ = mlstm_recurrent_step(*step_in, state=detached)
    h_step, _ = mlstm_step_kernel(*step_in, state=detached)
    report.add("equality.mlstm.step_rel_err", rel_error(h_step, h_step_ref))
    with torch.autocast("cuda", dtype=torch.bfloat16):
        h_bf16, _ = mlstm_chunkwise_kernel(*inputs)
    report.add("equality.mlstm.forward_bf16_rel_err", rel_error(h_bf16, h_ref))


def check_slstm(report: Report, shape: tuple[int, int, int, int], fp32: bool) -> None:
    """The official sLSTM CUDA kernel vs our PyTorch loop (bf16 autocast; float32 optional)."""
    from xlstm_model.slstm import slstm_recurrence
    from xlstm_model.slstm_kernel import slstm_recurrence_kernel

    B, NH, S, DH = shape[0], 4, shape[2], 96
    gen = torch.Generator(device="cuda").manual_seed(1)
    wx = torch.randn(NH, S, B, 4 * DH, device="cuda", generator=gen).requires_grad_()
    R = (0.1 * torch.randn(NH, DH, 4 * DH, device="cuda", generator=gen)).requires_grad_()
    bias = torch.randn(NH, 4 * DH, device="cuda", generator=gen).requires_grad_()
    empty = [torch.zeros(NH, B, DH, device="cuda") for _ in range(3)]
    state = (*empty, torch.full((NH, B, DH), float("-inf"), device="cuda"))
    h_ref, _ = slstm_recurrence(wx + bias[:, None, None], R, state, exp_forget=False)
    weights = torch.randn_like(h_ref)
    grads_ref = torch.autograd.grad((h_ref * weights).sum(), (wx, R, bias))
    for label, autocast in [("bf16", True), ("fp32", False)][: 2 if fp32 else 1]:
        started = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            h, _ = slstm_recurrence_kernel(wx, R, bias, state, training=True)
        report.add(f"equality.slstm.{label}_first_call_s", time.perf_counter() - started, "s")
        report.add(f"equality.slstm.{label}_forward_rel_err", rel_error(h, h_ref))
        grads = torch.autograd.grad((h.float() * weights).sum(), (wx, R, bias))
        for name, g, g_ref in zip(("wx", "R", "bias"), grads, grads_ref, strict=True):
            report.add(f"equality.slstm.{label}_grad_{name}_rel_err", rel_error(g, g_ref))


def our_model(vocab: int, dim: int, blocks: int, slstm_at: list[int], ctx: int, kernels="auto"):
    from xlstm_model.config import XLSTMConfig
    from xlstm_model.model import XLSTMLM

    config = XLSTMConfig(
        vocab_size=vocab,
        embedding_dim=dim,
        num_blocks=blocks,
        num_heads=4,
        slstm_at=slstm_at,
        context_length=ctx,
        kernels=kernels,
    )
    return XLSTMLM(config)


class OfficialLM(torch.nn.Module):
    """The official `xLSTMLMModel` (CUDA sLSTM kernel on CUDA, vanilla cell elsewhere)."""

    def __init__(self, vocab: int, dim: int, blocks: int, slstm_at: list[int], ctx: int) -> None:
        super().__init__()
        import xlstm

        backend = "cuda" if torch.cuda.is_available() else "vanilla"
        mlstm = xlstm.mLSTMLayerConfig(conv1d_kernel_size=4, qkv_proj_blocksize=4, num_heads=4)
        slstm = xlstm.sLSTMLayerConfig(backend=backend, num_heads=4, conv1d_kernel_size=4)
        config = xlstm.xLSTMLMModelConfig(
            mlstm_block=xlstm.mLSTMBlockConfig(mlstm=mlstm),
            slstm_block=xlstm.sLSTMBlockConfig(
                slstm=slstm, feedforward=xlstm.FeedForwardConfig(proj_factor=4 / 3, act_fn="gelu")
            ),
            context_length=ctx,
            num_blocks=blocks,
            embedding_dim=dim,
            slstm_at=slstm_at,
            vocab_size=vocab,
        )
        self.model = xlstm.xLSTMLMModel(config)
        self.model.reset_parameters()

    def forward(self, idx: torch.Tensor, targets: torch.Tensor):
        logits = self.model(idx)
        return logits, F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())


def train_rate(model, vocab: int, batch: int, ctx: int, steps: int, device) -> dict:
    """Median tokens/s of forward + backward + AdamW steps (bf16 autocast on CUDA)."""
    model.to(device).train()
    cuda = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=cuda)
    idx = torch.randint(0, vocab, (batch, ctx + 1), device=device)
    times = []
    for _ in range(steps + 2):  # the first two (compilation, autotuning) are not counted
        started = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            _, loss = model(idx[:, :-1], idx[:, 1:])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return {"tokens_per_s": batch * ctx / statistics.median(times[2:]), "first_step_s": times[0]}


def speed_rows(kw: dict, ctx: int, compile_too: bool, device) -> list[tuple[str, object]]:
    """(row name, model builder) pairs for one config."""
    rows = [("ours_eager", lambda: our_model(**kw, ctx=ctx))]
    if compile_too:
        rows.append(("ours_compiled", lambda: torch.compile(our_model(**kw, ctx=ctx))))
    if device.type == "cuda" and kw["slstm_at"]:
        rows.append(("ours_torch_cells", lambda: our_model(**kw, ctx=ctx, kernels="torch")))
    rows.append(("official", lambda: OfficialLM(**kw, ctx=ctx)))
    return rows


def check_speed(report: Report, args: argparse.Namespace, device) -> None:
    from xlstm_model.kernels import error_line

    for label, kw, batch, ctx in SIZES[args.size]:
        compile_too = args.compile is not None and (not args.compile or label in args.compile)
        for row, build in speed_rows(kw, ctx, compile_too, device):
            key = f"speed.{label}.{row}"
            try:
                model = build()
                result = train_rate(model, kw["vocab"], batch, ctx, args.steps, device)
            except Exception as e:  # one failing row (a missing package) must not end the run
                report.add(f"{key}.error", error_line(e))
                continue
            params = sum(p.numel() for p in model.parameters())
            report.add(f"{key}.tokens_per_s", result["tokens_per_s"], "tokens/s")
            report.add(f"{key}.first_step_s", result["first_step_s"], "s")
            report.add(f"{key}.params", params)
            if device.type == "cuda":
                mfu = 6 * params * result["tokens_per_s"] / (args.peak_tflops * 1e12)
                report.add(f"{key}.mfu_percent", 100 * mfu, "%")


def check_train(report: Report, args: argparse.Namespace) -> None:
    """`python -m xlstm_model.train` on CUDA for --train-minutes; its validation perplexity."""
    run_dir = Path(tempfile.mkdtemp(prefix="gpu-check-run-"))  # not under --out: few files back
    command = [sys.executable, "-m", "xlstm_model.train", "--corpus", *args.corpus]
    command += ["--out", str(run_dir), "--config", args.train_preset, "--device", "cuda"]
    command += ["--max-minutes", str(args.train_minutes), "--qa", "none"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.train_minutes * 120)
    (args.out / "train.log").write_text(done.stdout + done.stderr)
    report.add("train.exit_code", done.returncode)
    report.add("train.wall_s", time.perf_counter() - started, "s")
    match = re.search(r"validation perplexity ([0-9.]+)", done.stdout + done.stderr)
    report.add("train.val_ppl", float(match.group(1)) if match else "not found (see train.log)")


def export_corpus(spec: list[str], out: Path) -> int:
    """Writes the corpus documents as .txt files into `out`; returns how many."""
    from xlstm_model.data import load_documents, resolve_corpus

    out.mkdir(parents=True, exist_ok=True)
    docs = load_documents(resolve_corpus(spec))
    for doc in docs:
        (out / (Path(doc.name).stem + ".txt")).write_text(doc.text, encoding="utf-8")
    return len(docs)


def build_parser() -> argparse.ArgumentParser:
    description = __doc__.split("\n")[0]
    p = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=description)
    p.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json, train.log")
    p.add_argument("--sections", default="equality,speed,train", help="comma-separated")
    p.add_argument("--size", choices=sorted(SIZES), default="issue", help="speed/equality sizes")
    p.add_argument("--steps", type=int, default=10, help="timed training steps per speed row")
    p.add_argument(
        "--compile",
        nargs="*",
        metavar="LABEL",
        help="add torch.compile rows to speed (for the configs LABEL, e.g. 'xLSTM[1:0]'; all)",
    )
    p.add_argument("--peak-tflops", type=float, default=790.0, help="bf16 peak for MFU (H200)")
    p.add_argument("--slstm-fp32", action="store_true", help="also a float32 sLSTM kernel build")
    p.add_argument("--corpus", nargs="+", default=["default"], help="training corpus")
    p.add_argument("--train-preset", default="gpu", help="preset of the train section")
    p.add_argument("--train-minutes", type=float, default=2.0)
    p.add_argument("--export-corpus", type=Path, help="only write the corpus as .txt files here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.export_corpus:
        print(f"wrote {export_corpus(args.corpus, args.export_corpus)} documents")
        return 0
    from xlstm_model.devices import cuda_found, device_name

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    report = Report(args.out)
    report.add("device", device_name(device))
    report.add("torch", torch.__version__)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for section in sections:
        if section in ("equality", "train") and not cuda:
            report.add(f"{section}.skipped", f"no CUDA device ({cuda_found()})")
        elif section == "equality":
            shape = EQUALITY_SHAPES[args.size]
            check_mlstm(report, shape)
            check_slstm(report, shape, args.slstm_fp32)
        elif section == "speed":
            check_speed(report, args, device)
        elif section == "train":
            check_train(report, args)
        else:
            report.add(f"{section}.skipped", "unknown section (equality, speed, train)")
    print(f"figures -> {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
