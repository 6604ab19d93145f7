"""Streaming generation: `stream(run, prompt, ...)` and `python -m xlstm_model.generate`.

The prompt is run once (`model.prefill`), then one token at a time (`model.step`) with the
recurrent state carried, so memory stays constant however long the context is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch

from xlstm_model.checkpoint import LoadedRun, load_run, pick_device
from xlstm_model.data import resolve_run_dir
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


def _last_logits(logits: torch.Tensor) -> torch.Tensor:
    """(V,) from step/prefill output shaped (B, V) or (B, S, V), batch size 1."""
    return logits.reshape(-1, logits.shape[-1])[-1].float()


class _TextStream:
    """Decodes generated ids incrementally, holding back text that may grow into a stop string
    or that ends inside a multi-byte character."""

    def __init__(self, tokenizer, stops: Sequence[str]) -> None:
        self.tokenizer, self.stops = tokenizer, [s for s in stops if s]
        self.ids: list[int] = []
        self.emitted = 0

    def push(self, token: int) -> tuple[str, bool]:
        """Adds a token; returns (new text to yield, whether a stop string was reached)."""
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids)
        hits = [i for i in (text.find(s, self.emitted) for s in self.stops) if i >= 0]
        if hits:
            return text[self.emitted : min(hits)], True
        end = len(text) - self._held_back(text)
        piece, self.emitted = text[self.emitted : end], max(self.emitted, end)
        return piece, False

    def _held_back(self, text: str) -> int:
        hold = len(text) - len(text.rstrip("\ufffd"))
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:n]):
                    hold = max(hold, n)
                    break
        return hold

    def flush(self) -> str:
        return self.tokenizer.decode(self.ids)[self.emitted :]


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
    to copy spans of the evidence. `seed` makes sampling (temperature > 0) reproducible.
    """
    model, tokenizer = run.model, run.tokenizer
    device = next(model.parameters()).device
    logits, state = model.prefill(
        torch.tensor([tokenizer.encode(prompt) or [tokenizer.eot_id]], device=device)
    )
    mask = None
    if allowed_token_ids is not None:
        mask = _allowed_mask(allowed_token_ids, logits.shape[-1], tokenizer.eot_id, device)
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    text = _TextStream(tokenizer, stop or [])
    for _ in range(max_new_tokens):
        scores = _last_logits(logits) if mask is None else _last_logits(logits) + mask
        if logits_processor is not None:
            scores = logits_processor(list(text.ids), scores)
        token = next_token(scores, temperature, top_k, top_p, generator)
        if token == tokenizer.eot_id:
            break
        piece, stopped = text.push(token)
        if piece:
            yield piece
        if stopped:
            return
        logits, state = model.step(torch.tensor([token], device=device), state)
    if tail := text.flush():
        yield tail


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m xlstm_model.generate", description=__doc__.split("\n")[0]
    )
    p.add_argument("prompt", help="text to continue (use xlstm_model.prompt formats for QA)")
    p.add_argument("--run", default="default", help='run directory, or "default"')
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run = load_run(resolve_run_dir(args.run), pick_device(args.device))
        for piece in stream(
            run,
            args.prompt,
            args.max_new_tokens,
            args.temperature,
            args.top_k,
            args.top_p,
            seed=args.seed,
        ):
            sys.stdout.write(piece)
            sys.stdout.flush()
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
