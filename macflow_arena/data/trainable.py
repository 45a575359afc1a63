"""What the trainer's loader refuses, checked where ``verify`` can report it too.

``check_values`` (shards.py) makes every float finite and in its space. The
trainer needs more, and ``verify`` checks the same (naming episode and step):

* every float value lies within +-``MAX_ABS`` (1e12): a reward of 1e300 is
  finite in float64 but overflows float32, and observations of 3e38 overflow
  the first layer; real data is many orders of magnitude smaller;
* discrete actions with an ``action_mask``: a live agent's mask is never all
  zero, and the stored action is one its mask allows.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .blocks import field_align, offsets
from .errors import DatasetValueError

MAX_ABS = 1e12


def _where(arrays, row: int, obs_aligned: bool) -> tuple[int, int]:
    off = offsets(arrays["steps"], 1 if obs_aligned else 0)
    e = int(np.searchsorted(off, row, side="right") - 1)
    return int(arrays["episode_id"][e]), int(row - off[e])


def _fail(where: str, arrays, name: str, what: str, row: int, agent: int | None, agents, obs_aligned: bool):
    eid, step = _where(arrays, row, obs_aligned)
    who = f", agent {agents[agent]}" if agent is not None and agent < len(agents) else ""
    raise DatasetValueError(f"{where}: episode {eid}, field {name!r}: {what} at "
                            f"{'obs index' if obs_aligned else 'step'} {step}{who}; `macflow-arena train` refuses it")


def check_trainable(arrays: Mapping[str, np.ndarray], layout: Mapping[str, dict], agents: list[str], where: str) -> None:
    """Raise ``DatasetValueError`` naming episode, step and agent for what training cannot use."""
    for name, v in arrays.items():
        align = field_align(name)
        if align == "episode" or v.dtype.kind not in "fc" or v.size == 0:
            continue
        big = np.abs(v) > MAX_ABS
        if big.any():
            bad = np.argwhere(big)[0]
            agent = int(bad[1]) if v.ndim > 1 and name != "state" else None
            _fail(where, arrays, name, f"|value| above {MAX_ABS:g} (overflows float32 training)", int(bad[0]),
                  agent, agents, align == "obs")
    mask, act = arrays.get("action_mask"), arrays.get("action")
    f = layout.get("action")
    if mask is None or act is None or f is None or act.dtype.kind not in "iu" or mask.ndim != 3:
        return
    if act.ndim != 2:  # MultiDiscrete and the like: masks do not index them
        return
    steps = np.asarray(arrays["steps"], dtype=np.int64)
    ep = np.repeat(np.arange(len(steps)), steps)
    obs_row = np.arange(len(ep)) + ep  # the observation each step acted on
    m = mask[obs_row] != 0  # [R, N, n]
    live = np.asarray(arrays["alive"], dtype=bool)
    empty = live & ~m.any(-1)
    if empty.any():
        row, agent = (int(x) for x in np.argwhere(empty)[0])
        _fail(where, arrays, "action_mask", "all-zero mask for a live agent (no legal action)", row, agent, agents,
              False)
    a = np.clip(act.astype(np.int64), 0, m.shape[-1] - 1)
    taken = np.take_along_axis(m, a[..., None], -1)[..., 0] & (act >= 0) & (act < m.shape[-1])
    illegal = live & ~taken
    if illegal.any():
        row, agent = (int(x) for x in np.argwhere(illegal)[0])
        _fail(where, arrays, "action", f"stored action {int(act[row, agent])} is masked (illegal)", row, agent,
              agents, False)


__all__ = ["check_trainable", "MAX_ABS"]
