"""particle/spread: N agents cover N landmarks (MPE simple_spread)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import EntityTable
from .task import ParticleSpec, ParticleTask, agent_distances, colliding_pairs, other_index, positive_count


@dataclass(frozen=True)
class SpreadSpec(ParticleSpec):
    n_agents: int = 3  # agents (the team)
    n_landmarks: int = 3  # landmarks to cover
    agent_size: float = 0.15  # agent radius (MPE)
    landmark_size: float = 0.05  # landmark radius (drawn only; landmarks do not collide)
    agent_accel: float = 5.0  # force per unit action (MPE sensitivity)
    agent_max_speed: float = float("inf")  # speed cap (MPE: none)
    collision_penalty: float = 1.0  # subtracted from the team reward per colliding agent pair

    def validate(self) -> None:
        super().validate()
        positive_count(self, "n_agents", "n_landmarks")


class SpreadTask(ParticleTask):
    spec_cls = SpreadSpec
    name = "spread"

    def __init__(self, spec: SpreadSpec):
        self.spec = spec
        n, m = spec.n_agents, spec.n_landmarks
        self.agent_names = [f"agent_{i}" for i in range(n)]
        self.agent_role = ["agent"] * n
        e = n + m
        self.table = EntityTable(
            size=np.array([spec.agent_size] * n + [spec.landmark_size] * m),
            mass=np.ones(e),
            accel=np.array([spec.agent_accel] * n + [0.0] * m),
            max_speed=np.array([spec.agent_max_speed] * n + [np.inf] * m),
            movable=np.array([True] * n + [False] * m),
            collide=np.array([True] * n + [False] * m),
        )
        self.colors = np.array([[89, 89, 217]] * n + [[64, 64, 64]] * m, dtype=np.uint8)
        self.obs_dims = [4 + 2 * m + 2 * (n - 1)] * n
        self._others = other_index(n)
        self._rows = np.arange(n)[:, None]

    def spawn(self, rng, pos, vel):
        pos[:] = rng.uniform(-self.spec.spawn_size, self.spec.spawn_size, size=pos.shape)
        vel[:] = 0.0

    def _landmark_dist(self, pos):
        n = self.spec.n_agents
        return agent_distances(pos[:, :n], pos[:, n:])

    def reward(self, pos, vel):
        return self.reward_and_metrics(pos, vel)[0]

    def reward_and_metrics(self, pos, vel):
        n = self.spec.n_agents
        cover = self._landmark_dist(pos).min(axis=1).sum(axis=1)
        hits = colliding_pairs(pos[:, :n], self.table.size[:n])
        team = -cover - self.spec.collision_penalty * hits
        return np.repeat(team[:, None], n, axis=1), {"cover_distance": cover, "collisions": hits}

    def entity_groups(self):
        """Tokens: own velocity and position; each landmark and each other agent (relative position)."""
        from ..layout import blocks

        n, m = self.spec.n_agents, self.spec.n_landmarks
        groups = [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": blocks(4, m, 2)}]
        if n > 1:
            groups.append({"name": "agents", "index": blocks(4 + 2 * m, n - 1, 2)})
        return groups

    def observe(self, pos, vel):
        # [vel, pos, landmarks - pos, other agents - pos], written straight into float32
        n, m = self.spec.n_agents, self.spec.n_landmarks
        b = pos.shape[0]
        a = pos[:, :n]
        rel = pos[:, None] - a[:, :, None]  # [B, n, E, 2]: every entity relative to each agent
        out = np.empty((b, n, self.obs_dims[0]), dtype=np.float32)
        out[:, :, 0:2] = vel[:, :n]
        out[:, :, 2:4] = a
        out[:, :, 4 : 4 + 2 * m] = rel[:, :, n:].reshape(b, n, 2 * m)
        out[:, :, 4 + 2 * m :] = rel[:, self._rows, self._others].reshape(b, n, 2 * (n - 1))
        return out

    def metrics(self, pos, vel):
        return self.reward_and_metrics(pos, vel)[1]
