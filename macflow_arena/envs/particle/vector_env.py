"""Batched VectorEnv over the particle core: arrays [B, N, ...], same-step auto-reset."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from gymnasium import spaces

from ..seeding import world_seeds
from ..validate import check_batch
from .core import ParticleCore
from .task import ParticleTask


class ParticleVectorEnv:
    """B worlds of one scenario stepped together.

    ``reset(seed=s)`` seeds world b with ``s + b`` (or pass one seed per world),
    so world b replays exactly like ``make(id).reset(seed=s + b)``.
    ``step`` returns ``obs, rewards, terminated, truncated, info``; worlds that
    finish are reset in the same call: ``obs`` holds their new first
    observation and ``info["final_obs"]`` the last one of the finished episode
    (``info["final_state"]`` its global state; ``info["done"]`` marks them). Observations of agents with smaller
    observation dims are zero-padded to ``obs_dim``.
    """

    def __init__(self, task: ParticleTask, entry, num_envs: int):
        self.task = task
        self.scenario = task.spec
        self.env_id = entry.id
        self.num_envs = int(num_envs)
        self.core = ParticleCore(task, self.num_envs)
        self.agents = list(task.agent_names)
        self.n_agents = len(self.agents)
        self.obs_dims = list(task.obs_dims)
        self.obs_dim = max(self.obs_dims)
        self.discrete = task.spec.discrete_actions
        self.action_space = spaces.Discrete(5) if self.discrete else spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_shape = (self.num_envs, self.n_agents) + (() if self.discrete else (2,))
        self.state_dim = self.core.state_dim
        self.max_cycles = task.spec.max_cycles
        self._started = False

    def reset(self, seed: int | Sequence[int] | None = None):
        b = self.num_envs
        if seed is not None:
            self.core.seed(range(b), world_seeds(seed, b))
        self.core.reset()
        self._started = True
        return self.core.observe(), {"metrics": self.core.metrics()}

    def step(self, actions: np.ndarray):
        if not self._started:
            raise RuntimeError(f"{self.env_id}: step() called before reset(); call reset() first")
        act = check_batch(actions, self.action_shape, self.discrete, 5)
        rewards, truncated = self.core.step(act)
        obs = self.core.observe()
        metrics = self.core.last_metrics
        b, n = self.num_envs, self.n_agents
        terminated = np.zeros((b, n), dtype=bool)
        trunc = np.broadcast_to(truncated[:, None], (b, n)).copy()
        info = {"metrics": metrics, "done": truncated.copy()}
        done = np.flatnonzero(truncated)
        if done.size:
            info["final_obs"] = obs.copy()
            info["final_state"] = self.core.state()  # the global state at the end (datasets record it)
            self.core.reset(done)
            obs[done] = self.core.observe()[done]
        return obs, rewards.astype(np.float32), terminated, trunc, info

    def state(self) -> np.ndarray:
        return self.core.state()

    def close(self) -> None:
        pass
