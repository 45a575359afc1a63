"""How many CPU threads torch uses, per kind of work (``train`` or ``act``).

Measured with ``python benchmarks/threads.py`` (``benchmarks/results/threads.md``):
the networks are small and so are the batches (16 windows x 20 steps for an
update, 1 decision in play), so torch's default of one thread per core mostly
adds synchronisation. On a shared 2-core machine torch's default (2 threads)
made a macflow update 6.3x slower than 1 thread (10.4x with one core busy
elsewhere) and a decision 1.1x slower at batch 1, 1.3-2.6x at batch 128. One
thread is the default for training and for acting (play, video, eval); a
many-core machine is not measured yet. ``--threads N`` sets another count for
one command, ``$MACFLOW_ARENA_THREADS`` for every command. ``apply_threads``
imports torch; callers that may not need torch check first.
"""

from __future__ import annotations

import os

KINDS = ("train", "act")
# kind -> threads, from benchmarks/results/threads.md
DEFAULTS = {"train": 1, "act": 1}
ENV_VAR = "MACFLOW_ARENA_THREADS"


class ThreadsError(ValueError):
    """A bad thread count (``--threads`` or ``$MACFLOW_ARENA_THREADS``)."""


def default_threads(kind: str) -> int:
    """The thread count for ``kind`` ("train" or "act"): ``$MACFLOW_ARENA_THREADS`` when set, else the measured default."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of work {kind!r}; one of {', '.join(KINDS)}")
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ThreadsError(f"{ENV_VAR} must be a whole number >= 1, got {raw!r}")
        return n
    return DEFAULTS[kind]


def resolve_threads(requested: int | None, kind: str) -> int:
    """``requested`` when >= 1, else (None or 0: "auto") the default for ``kind``."""
    if requested is not None and requested < 0:
        raise ThreadsError(f"--threads must be >= 0 (0: the default for {kind}), got {requested}")
    return int(requested) if requested else default_threads(kind)


def apply_threads(requested: int | None, kind: str) -> int:
    """Set torch's intra-op thread count for ``kind`` (when torch is installed); return the count."""
    n = resolve_threads(requested, kind)
    try:
        import torch
    except ImportError:
        return n
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
