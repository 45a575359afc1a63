"""Held-out episodes (``train --holdout F``): a share of the dataset's episodes that training never
samples, on which the algorithm's own losses are logged (``holdout/...`` next to the training
metrics in metrics.jsonl and TensorBoard), so over-fitting shows as a held-out loss that turns up
while the training loss keeps falling. On the 1,000-episode 2s3z medium-replay recording BC at
10,000 updates scores 89.2 against 96.3 at 2,500 (five seeds; benchmarks/quality.md, session 13).

The split is by whole episodes, drawn with a fixed generator (``SPLIT_SEED``), so every seed and
every algorithm trained with the same fraction holds out the same episodes; the observation
statistics stay those of the whole dataset (a checkpoint normalises as before).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .data import DeviceDataset

SPLIT_SEED = 20261202
HOLDOUT_ROWS = 2048  # transitions the held-out losses average over (fixed batches, drawn once)


class HoldoutError(ValueError):
    pass


def held_episodes(num_episodes: int, fraction: float) -> np.ndarray:
    """The sorted indices of the episodes ``fraction`` holds out (at least one, never all)."""
    if not 0.0 < fraction < 1.0:
        raise HoldoutError(f"--holdout {fraction}: use a fraction of the episodes in (0, 1), e.g. 0.05")
    n = int(round(fraction * num_episodes))
    if n < 1 or n >= num_episodes:
        raise HoldoutError(f"--holdout {fraction} of {num_episodes} episodes holds out {n}: it must leave at "
                           f"least one episode on each side; use a fraction between {1 / num_episodes:.3g} "
                           f"and {1 - 1 / num_episodes:.3g}")
    perm = np.random.default_rng(SPLIT_SEED).permutation(num_episodes)
    return np.sort(perm[:n])


def subset(data: DeviceDataset, episodes: np.ndarray) -> DeviceDataset:
    """The dataset restricted to ``episodes`` (indices, in order): rows and offsets rebuilt, the
    header, manifest and observation statistics kept."""
    dev = data.device
    ep = torch.as_tensor(np.asarray(episodes, dtype=np.int64), device=dev)
    steps = data.steps[ep]
    n_obs = data.obs_start[ep + 1] - data.obs_start[ep]

    def rows_of(start: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        first = start[ep]
        offset = torch.cumsum(counts, 0) - counts  # each episode's first row in the subset
        within = torch.arange(int(counts.sum()), device=dev) - torch.repeat_interleave(offset, counts)
        return torch.repeat_interleave(first, counts) + within

    srows, orows = rows_of(data.step_start, steps), rows_of(data.obs_start, n_obs)
    zero = steps.new_zeros(1)
    step_start = torch.cat([zero, torch.cumsum(steps, 0)])
    obs_start = torch.cat([zero, torch.cumsum(n_obs, 0)])
    ep_of_step = torch.repeat_interleave(torch.arange(len(ep), device=dev), steps)
    obs_row = obs_start[ep_of_step] + (data.obs_row[srows] - data.obs_start[ep[ep_of_step]])
    return dataclasses.replace(
        data, steps=steps, step_start=step_start, obs_start=obs_start, obs=data.obs[orows],
        alive_obs=data.alive_obs[orows], avail=None if data.avail is None else data.avail[orows],
        actions=data.actions[srows], rewards=data.rewards[srows], terminated=data.terminated[srows],
        returns=np.asarray(data.returns)[np.asarray(episodes)], obs_row=obs_row, _placements={}, _nstep={},
    )


def split(data: DeviceDataset, fraction: float) -> tuple[DeviceDataset, DeviceDataset]:
    """(training episodes, held-out episodes) for ``--holdout fraction``."""
    held = held_episodes(data.num_episodes, fraction)
    keep = np.setdiff1d(np.arange(data.num_episodes), held)
    return subset(data, keep), subset(data, held)


class HoldoutLosses:
    """The algorithm's losses on fixed held-out batches (drawn once), without gradients and without
    touching the training generator, averaged over the batches: ``{"holdout/<metric>": value}``."""

    def __init__(self, algo, held: DeviceDataset, batch_size: int, losses, *, n_step: int = 1,
                 gamma: float | None = None, window: int | None = None):
        self.algo, self.losses = algo, losses  # the eager losses (a compiled update keeps its own)
        g = torch.Generator(device=held.device)
        g.manual_seed(SPLIT_SEED)
        rows = batch_size * (window or 1)  # transitions per batch (windows: up to, with padding)
        n = max(1, -(-min(HOLDOUT_ROWS, held.num_steps) // rows))
        self.batches = [held.sample(batch_size, window, g) if window else
                        held.sample_transitions(batch_size, g, n_step=n_step, gamma=gamma) for _ in range(n)]

    def __call__(self) -> dict[str, float]:
        algo = self.algo
        state = algo.gen.get_state()
        total: dict[str, float] = {}
        try:
            with torch.no_grad(), algo.autocast():
                for b in self.batches:
                    _, m = self.losses(algo.prepare(b))
                    for k, v in m.items():
                        total[k] = total.get(k, 0.0) + float(v)
        finally:
            algo.gen.set_state(state)  # the training run draws the same numbers with or without it
        return {f"holdout/{k}": v / len(self.batches) for k, v in total.items()}
