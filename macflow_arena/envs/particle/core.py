"""The batched particle core: B worlds of one task stepped as numpy arrays.

No pygame, torch or I/O. Each world owns an ``np.random.Generator`` used only
at reset, so world b of a batch seeded ``s + b`` replays exactly like a single
env seeded ``s + b``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .physics import Physics
from .task import DISCRETE_DIRECTIONS, ParticleTask


class ParticleCore:
    def __init__(self, task: ParticleTask, num_worlds: int):
        if num_worlds < 1:
            raise ValueError("num_worlds must be >= 1")
        self.task = task
        self.spec = task.spec
        self.num_worlds = int(num_worlds)
        s = task.spec
        self.physics = Physics(
            task.table,
            dt=s.dt,
            damping=s.damping,
            contact_force=s.contact_force,
            contact_margin=s.contact_margin,
            bound=s.world_size if s.bounded else None,
        )
        e = task.n_entities
        self.pos = np.zeros((num_worlds, e, 2))
        self.vel = np.zeros((num_worlds, e, 2))
        self.t = np.zeros(num_worlds, dtype=np.int64)
        self.rngs = [np.random.default_rng() for _ in range(num_worlds)]
        n = task.n_controlled
        self._accel = task.table.accel[None, :n, None]
        self._dirs = DISCRETE_DIRECTIONS * task.table.accel[:n, None, None]  # [N, 5, 2]
        self._agent_idx = np.arange(n)[None, :]
        self._force = np.zeros((num_worlds, e, 2))
        self.last_metrics: dict[str, np.ndarray] = {}

    def seed(self, worlds: Sequence[int], seeds: Sequence[int | None]) -> None:
        for b, s in zip(worlds, seeds):
            self.rngs[b] = np.random.default_rng(s)

    def reset(self, worlds: Sequence[int] | np.ndarray | None = None) -> None:
        idx = range(self.num_worlds) if worlds is None else worlds
        for b in idx:
            self.task.spawn(self.rngs[b], self.pos[b], self.vel[b])
            self.t[b] = 0

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply validated actions ([B, N, 2] floats, or [B, N] ints in discrete mode).

        Returns rewards [B, N] and the truncation flag per world [B]. The
        metrics of the new state (what ``metrics()`` would return now) are left
        in ``last_metrics``: the task computes them with the rewards.
        """
        n = self.task.n_controlled
        force = self._force
        if self.spec.discrete_actions:
            force[:, :n] = self._dirs[self._agent_idx, actions]
        else:
            force[:, :n] = actions * self._accel
        internal = self.task.internal_force(self.pos, self.vel)
        if internal is not None:
            force[:, n : n + self.task.n_internal] = internal
        self.physics.step(self.pos, self.vel, force)
        self.t += 1
        rewards, self.last_metrics = self.task.reward_and_metrics(self.pos, self.vel)
        return rewards, self.t >= self.spec.max_cycles

    def observe(self) -> np.ndarray:
        return self.task.observe(self.pos, self.vel)

    def metrics(self) -> dict[str, np.ndarray]:
        return self.task.metrics(self.pos, self.vel)

    def state(self) -> np.ndarray:
        """Global state [B, E * 4]: every entity's position then velocity."""
        b = self.num_worlds
        return np.concatenate([self.pos.reshape(b, -1), self.vel.reshape(b, -1)], axis=1).astype(np.float32)

    @property
    def state_dim(self) -> int:
        return 4 * self.task.n_entities
