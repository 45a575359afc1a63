"""Per-decision latency of a team: one ``act`` call for the whole team at batch 1.

``measure_latency`` times ``calls`` (>= 200) calls after ``warmup`` untimed ones
on a real first observation of the env (masks included), with one torch
thread (the setting that is fastest for batch-1 decisions on a CPU), and
reports the median and percentiles in milliseconds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

MIN_CALLS = 200


def first_observation(env_id: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """obs [1, N, D] (float32) and avail [1, N, n] (bool, or None) of a reset VectorEnv world."""
    from .. import make_vec

    venv = make_vec(env_id, 1)
    try:
        obs, _ = venv.reset(seed=seed)
    finally:
        venv.close()
    if isinstance(obs, dict):
        return np.asarray(obs["observation"], dtype=np.float32), np.asarray(obs["action_mask"]) != 0
    return np.asarray(obs, dtype=np.float32), None


def measure_latency(algo, env_id: str, *, calls: int = MIN_CALLS, warmup: int = 20, threads: int = 1) -> dict[str, Any]:
    """Median (and p10/p90) milliseconds of one ``algo.act`` at batch 1 on the algorithm's device."""
    if calls < MIN_CALLS:
        raise ValueError(f"latency needs at least {MIN_CALLS} timed calls, got {calls}")
    o, m = first_observation(env_id)
    obs = torch.from_numpy(o).to(algo.device)
    avail = None if m is None else torch.from_numpy(m).to(algo.device)
    gen = torch.Generator(device=algo.device).manual_seed(0)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    was_training = algo.nets.training
    algo.nets.eval()
    try:
        for _ in range(warmup):
            algo.act(obs, gen, avail)
        times = np.empty(calls)
        sync = torch.cuda.synchronize if algo.device.type == "cuda" else (lambda: None)
        for i in range(calls):
            t = time.perf_counter()
            algo.act(obs, gen, avail)
            sync()
            times[i] = time.perf_counter() - t
    finally:
        torch.set_num_threads(old)
        algo.nets.train(was_training)
    ms = times * 1e3
    return {"median_ms": float(np.median(ms)), "p10_ms": float(np.percentile(ms, 10)),
            "p90_ms": float(np.percentile(ms, 90)), "calls": int(calls), "warmup": int(warmup), "batch": 1,
            "threads": int(threads), "device": str(algo.device), "torch_version": torch.__version__}
