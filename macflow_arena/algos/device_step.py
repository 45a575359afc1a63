"""Updates that read nothing back to the host until asked (``Algorithm.update_device``).

On CUDA every ``.tolist()`` or ``bool(tensor)`` inside the training loop waits for the
GPU to finish, so a loop that reads its metrics after each update cannot queue the next
one while the last runs. ``update_device`` keeps the batch's value checks, the metrics
and the decision to skip a bad step on the device; the trainer reads a run of updates at
once with ``read_steps`` (one sync), before anything writes or evaluates the weights.

A bad update (a batch value check failing, a non-finite loss or gradient) is skipped on
the device: the fused Adam's ``found_inf`` flag leaves every weight, moment and step count
as it was, as ``Algorithm.update`` leaves them when it raises before stepping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .batch import BatchError


@dataclass
class DeviceStep:
    """One update's unread results: ``values`` (float32, one per key) and ``flags`` (bool, True
    where the batch value check ``checks[i]`` failed), both on the device; ``algo`` names the run
    in errors (``macflow``, or ``macflow seed 3`` in a seed stack)."""

    algo: str
    step: int
    keys: list[str]
    values: Tensor
    checks: list[str]
    flags: Tensor


def skip_step_if(opt: torch.optim.Optimizer, bad: Tensor) -> None:
    """``opt.step()`` unless the 0-d bool ``bad`` is True, decided on the device for the fused
    Adam (its ``found_inf`` input: nothing moves, the step count stays); other optimizers
    read ``bad`` on the host (one sync)."""
    if opt.defaults.get("fused"):
        opt.found_inf = bad.float()
        try:
            opt.step()
        finally:
            del opt.found_inf
    elif not bool(bad):
        opt.step()


def read_steps(steps: list[DeviceStep]) -> list[dict[str, float]]:
    """Each update's metrics as floats, in one host read. Raises at the first bad update, naming
    it: BatchError for a failed value check (the message of the check), FloatingPointError for a
    non-finite metric; that update and only that one was skipped (the later ones stepped)."""
    if not steps:
        return []
    flat = torch.cat([t for s in steps for t in (s.flags.float(), s.values)]).tolist()
    out, i = [], 0
    for s in steps:
        flags = flat[i:i + len(s.checks)]
        i += len(s.checks)
        vals = dict(zip(s.keys, flat[i:i + len(s.keys)]))
        i += len(s.keys)
        failed = [m for m, f in zip(s.checks, flags) if f]
        if failed:
            raise BatchError(f"{s.algo}, update {s.step} (skipped): {failed[0]}")
        bad = [k for k, v in vals.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{s.algo}: non-finite {bad} at update {s.step} (skipped: no weight moved)")
        out.append(vals)
    return out
