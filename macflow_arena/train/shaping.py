"""Potential-based reward shaping for the critics (``train --shaping GROUP[:WEIGHT]``).

A sparse reward (tag: +10 per contact, on 7% of steps) gives a critic little to rank actions by
within a few thousand updates. Shaping adds ``gamma * Phi(o') - Phi(o)`` to every recorded reward,
with the potential ``Phi(o) = -WEIGHT * mean over the alive agents of the distance to the nearest
entity of GROUP`` (the first two entries of each of the group's tokens: the entity's position
relative to the agent, as every particle layout writes it). Potential-based shaping leaves the
optimal policies unchanged (Ng, Harada and Russell, 1999); Phi is 0 after a terminal step. It
changes the rewards the critics learn from, nothing else: episode returns, evaluations and
normalized scores use the env's own reward.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor


class ShapingError(ValueError):
    """A --shaping value that does not fit the dataset or the algorithm (names the fix)."""


def parse_shaping(text: str, layout) -> tuple[str, float]:
    """``GROUP`` or ``GROUP:WEIGHT`` -> (group, weight), checked against the entity ``layout``."""
    group, _, w = text.partition(":")
    groups = {name: index for name, index in layout}
    names = ", ".join(n for n in groups if n != "self") or "none (flat observations)"
    if group not in groups or group == "self":
        raise ShapingError(f"--shaping {text!r}: {group!r} is not an entity group of this dataset's observations; "
                           f"groups: {names}")
    if any(len(tok) < 2 for tok in groups[group]):
        raise ShapingError(f"--shaping {text!r}: the tokens of {group!r} have fewer than 2 entries (a relative "
                           f"position)")
    try:
        weight = float(w) if w else 1.0
    except ValueError:
        raise ShapingError(f"--shaping {text!r}: the weight after ':' must be a number, e.g. prey:1") from None
    if not (weight > 0 and weight < float("inf")):
        raise ShapingError(f"--shaping {text!r}: the weight must be a positive number")
    return group, weight


def potential(obs: Tensor, alive: Tensor, layout, group: str, weight: float) -> Tensor:
    """Phi per observation row: ``obs`` [R, N, D], ``alive`` [R, N] -> [R]."""
    tokens = dict(layout)[group]
    idx = torch.tensor([tok[:2] for tok in tokens], device=obs.device)  # [M, 2]
    rel = obs[..., idx]  # [R, N, M, 2]
    dist = torch.linalg.vector_norm(rel.float(), dim=-1).min(-1).values  # [R, N]
    mean = (dist * alive).sum(-1) / alive.sum(-1).clamp_min(1.0)
    return -weight * mean


def shape_rewards(data, layout, group: str, weight: float, gamma: float):
    """A copy of a ``DeviceDataset`` (the same tensors but the rewards) whose every step's reward gains
    ``gamma * Phi(o_{t+1}) * (1 - terminated_t) - Phi(o_t)``; n-step returns computed from it telescope
    to the shaped return. ``data`` itself is left as it was (seeds trained in one process share it).
    ``layout``: the entity layout the observations were recorded with (kept under ``--encoder flat``)."""
    phi = potential(data.obs, data.alive_obs, layout, group, weight)
    o0 = data.obs_row
    nxt = phi[o0 + 1] * (1.0 - data.terminated)
    rewards = (data.rewards + gamma * nxt - phi[o0]).to(data.rewards.dtype)
    return dataclasses.replace(data, rewards=rewards, _nstep={}, _placements={})
