"""Shared by the cover diagnostics: a run's trained algorithm and its dataset as fixed-length episodes."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def run_and_episodes(run: str, dataset: str, episodes: int | None = None):
    """``(algo, obs [E, T+1, N, D], actions [E, T, N, A])`` as float32 tensors: the run's latest checkpoint
    (eval mode, one torch thread) and the first ``episodes`` episodes of ``dataset`` (all: None)."""
    import torch

    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.data import Dataset
    from macflow_arena.data.paths import resolve_dataset
    from macflow_arena.train.trainer import latest_checkpoint

    torch.set_num_threads(1)
    algo = load_checkpoint(latest_checkpoint(Path(run))).algo
    algo.nets.eval()
    data = Dataset(resolve_dataset(dataset)).load()
    steps = np.asarray(data.fields["steps"])
    if not (steps == steps[0]).all():
        raise SystemExit("this check needs episodes of one length (cover's are 30 steps)")
    t, e = int(steps[0]), len(steps) if episodes is None else min(episodes, len(steps))
    obs = torch.tensor(np.asarray(data.fields["obs"][: e * (t + 1)]), dtype=torch.float32)
    act = torch.tensor(np.asarray(data.fields["action"][: e * t]), dtype=torch.float32)
    return algo, obs.reshape(e, t + 1, *obs.shape[1:]), act.reshape(e, t, *act.shape[1:])
