"""Train the token reader's ensemble members side by side, one process each.

One member's training step is small (8 pairs of ~130 tokens through two xLSTM blocks): two
threads run it only 1.17x faster than one (47.5 vs 55.7 ms/step, 2-vCPU EPYC), so K members
trained in K forked processes of cores / K threads each cost about one member's time, where one
after the other they cost K times it. The encoded token states are read, not copied: the
processes are forked after encoding (copy-on-write), and each sends back only its weights.
Where fork is missing (Windows, macOS' default), the members train one after the other.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable
from typing import Any

import torch

_JOB: dict[str, Any] = {}  # set before forking: the function, its jobs and shared state


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()


def map_members(fn: Callable[..., Any], jobs: list[dict], shared: Any) -> list[Any]:
    """[fn(shared, threads=..., **job) for job in jobs], in forked processes when there are
    several jobs and fork is at hand (each with cores / len(jobs) threads, at least one),
    else in this process with its threads."""
    if len(jobs) < 2 or not can_fork():
        threads = torch.get_num_threads()
        return [fn(shared, threads=threads, **job) for job in jobs]
    threads = max(1, torch.get_num_threads() // len(jobs))
    _JOB.update(fn=fn, jobs=jobs, shared=shared, threads=threads)
    try:
        with mp.get_context("fork").Pool(len(jobs)) as pool:
            return pool.map(_run, range(len(jobs)))
    finally:
        _JOB.clear()


def _run(index: int) -> Any:
    torch.set_num_threads(_JOB["threads"])
    return _JOB["fn"](_JOB["shared"], threads=_JOB["threads"], **_JOB["jobs"][index])
