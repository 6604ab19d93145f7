"""Streaming generation: `stream(run, prompt, ...)` and `python -m xlstm_model.generate`.

The prompt is run once (`model.prefill`), then one token at a time (`model.step`) with the
recurrent state carried, so memory stays constant however long the context is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

from xlstm_model.checkpoint import LoadedRun
from xlstm_model.errors import ModelError

LogitsProcessor = Callable[[list[int], torch.Tensor], torch.Tensor]


def _filter_top_k(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
    return logits.masked_fill(logits < kth, float("-inf"))


def _filter_top_p(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keeps the smallest set of tokens whose probability reaches top_p (nucleus sampling)."""
    sorted_logits, order = torch.sort(logits, descending=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
    drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # the first always stays
    return logits.masked_fill(drop.scatter(0, order, drop), float("-inf"))


def next_token(
    logits: torch.Tensor,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Greedy when temperature <= 0, else a sample after top-k / top-p filtering; logits: (V,)."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    logits = logits.float() / temperature
    if top_k:
        logits = _filter_top_k(logits, top_k)
    if top_p is not None and 0 < top_p < 1:
        logits = _filter_top_p(logits, top_p)
    probs = torch.softmax(logits, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


def _allowed_mask(ids: Iterable[int], vocab: int, always: int, device) -> torch.Tensor:
    mask = torch.full((vocab,), float("-inf"), device=device)
    allowed = [i for i in {*ids, always} if 0 <= i < vocab]
    mask[torch.tensor(allowed, dtype=torch.long, device=device)] = 0.0
    return mask


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters could still grow into a stop string (or a split character)."""
    hold = len(text) - len(text.rstrip("\ufffd"))
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:n]):
                hold = max(hold, n)
                break
    return hold


def _last_logits(logits: torch.Tensor) -> torch.Tensor:
    """(V,) from step/prefill output shaped (B, V) or (B, S, V), batch size 1."""
    return logits.reshape(-1, logits.shape[-1])[-1].float()


@torch.no_grad()
def stream(
    run: LoadedRun,
    prompt: str,
    max_new_tokens: int = 128,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    stop: Sequence[str] | None = None,
    allowed_token_ids: Iterable[int] | None = None,
    logits_processor: LogitsProcessor | None = None,
    seed: int | None = None,
) -> Iterator[str]:
    """Yields the decoded continuation of `prompt` piece by piece.

    Generation ends at `<|endoftext|>`, after `max_new_tokens`, or before the first stop string
    (never yielded). `allowed_token_ids` restricts every step to those tokens (end-of-text stays
    allowed); `logits_processor(generated_ids, logits) -> logits` may constrain it further, e.g.
    to copy spans of the evidence.
    """
    model, tokenizer, stops = run.model, run.tokenizer, [s for s in (stop or []) if s]
    device = next(model.parameters()).device
    prompt_ids = tokenizer.encode(prompt) or [tokenizer.eot_id]
    logits, state = model.prefill(torch.tensor([prompt_ids], device=device))
    logits = _last_logits(logits)
    mask = None
    if allowed_token_ids is not None:
        mask = _allowed_mask(allowed_token_ids, logits.numel(), tokenizer.eot_id, device)
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    generated: list[int] = []
    emitted = 0
    for _ in range(max_new_tokens):
        logits = logits + mask if mask is not None else logits
        if logits_processor is not None:
            logits = logits_processor(list(generated), logits)
        token = next_token(logits, temperature, top_k, top_p, generator)
        if token == tokenizer.eot_id:
            break
        generated.append(token)
        text = tokenizer.decode(generated)
        cut = min((i for i in (text.find(s, emitted) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            if cut > emitted:
                yield text[emitted:cut]
            return
        end = len(text) - _held_back(text, stops)
        if end > emitted:
            yield text[emitted:end]
            emitted = end
        logits, state = model.step(torch.tensor([token], device=device), state)
        logits = _last_logits(logits)
    tail = tokenizer.decode(generated)[emitted:]
    if tail:
        yield tail


def generate_text(run: LoadedRun, prompt: str, **kwargs) -> str:
    """The whole continuation as one string (see `stream` for the arguments)."""
    return "".join(stream(run, prompt, **kwargs))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m xlstm_model.generate", description=__doc__.split("\n")[0])
    p.add_argument("prompt", help="text to continue (use xlstm_model.prompt formats for QA)")
    p.add_argument("--run", default="default", help='run directory, or "default"')
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    return p  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from xlstm_model.checkpoint import load_run
        from xlstm_model.distributed import pick_device
        from xlstm_model.train import resolve_run_dir

        run = load_run(resolve_run_dir(args.run), pick_device(args.device))
        for piece in stream(run, args.prompt, args.max_new_tokens, args.temperature, args.top_k,
                            args.top_p, seed=args.seed):  # fmt: skip
            sys.stdout.write(piece)
            sys.stdout.flush()
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
