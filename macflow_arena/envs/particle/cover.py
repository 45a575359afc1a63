"""particle/cover: agents start together; each must end on a different landmark.

Landmarks sit on a regular polygon around the start point, so every one of
the N! assignments of agents to landmarks is equally good: the joint behaviour
is multimodal. A policy that averages the modes sends agents to the middle, or
two agents to one landmark, and scores nothing. The team scores
``success_reward`` on every step where each landmark holds exactly one agent,
plus small shaping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import EntityTable
from .task import ParticleSpec, ParticleTask, agent_distances, other_index, positive_count


@dataclass(frozen=True)
class CoverSpec(ParticleSpec):
    max_cycles: int = 30
    n_agents: int = 3  # agents = landmarks
    landmark_radius: float = 0.8  # distance of each landmark from the start point
    start_jitter: float = 0.05  # agents start uniformly within this distance of the start point
    center_range: float = 0.3  # the start point is uniform in [-center_range, center_range]^2
    agent_size: float = 0.05  # agent radius
    agent_collide: bool = False  # agents pass through each other (they start overlapped)
    agent_accel: float = 5.0  # force per unit action
    agent_max_speed: float = float("inf")  # speed cap
    cover_radius: float = 0.1  # an agent covers a landmark within this distance
    success_reward: float = 1.0  # per step on which every landmark holds exactly one agent
    covered_weight: float = 0.1  # per step, times the fraction of landmarks held by exactly one agent
    distance_weight: float = 0.1  # per step, times minus the mean nearest-agent distance

    def validate(self) -> None:
        super().validate()
        positive_count(self, "n_agents")
        if self.landmark_radius + self.center_range > self.world_size:
            raise ValueError("landmark_radius + center_range must fit in world_size")


class CoverTask(ParticleTask):
    spec_cls = CoverSpec
    name = "cover"

    def __init__(self, spec: CoverSpec):
        self.spec = spec
        n = spec.n_agents
        self.agent_names = [f"agent_{i}" for i in range(n)]
        self.agent_role = ["agent"] * n
        self.table = EntityTable(
            size=np.array([spec.agent_size] * n + [spec.cover_radius] * n),
            mass=np.ones(2 * n),
            accel=np.array([spec.agent_accel] * n + [0.0] * n),
            max_speed=np.array([spec.agent_max_speed] * n + [np.inf] * n),
            movable=np.array([True] * n + [False] * n),
            collide=np.array([spec.agent_collide] * n + [False] * n),
        )
        self.colors = np.array([[217, 140, 50]] * n + [[70, 110, 200]] * n, dtype=np.uint8)
        self.obs_dims = [4 + 2 * n + 2 * (n - 1)] * n
        self._others = other_index(n)

    def spawn(self, rng, pos, vel):
        s, n = self.spec, self.spec.n_agents
        center = rng.uniform(-s.center_range, s.center_range, size=2)
        r = s.start_jitter * np.sqrt(rng.uniform(size=n))
        phi = rng.uniform(0, 2 * np.pi, size=n)
        pos[:n] = center + np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
        theta = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(n) / n
        pos[n:] = center + s.landmark_radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)
        vel[:] = 0.0

    def _coverage(self, pos):
        n = self.spec.n_agents
        dist = agent_distances(pos[:, :n], pos[:, n:])  # [B, agents, landmarks]
        holders = (dist < self.spec.cover_radius).sum(axis=1)  # [B, landmarks]
        unique = (holders == 1).sum(axis=1)
        return dist, unique

    def reward(self, pos, vel):
        return self.reward_and_metrics(pos, vel)[0]

    def reward_and_metrics(self, pos, vel):
        s, n = self.spec, self.spec.n_agents
        dist, unique = self._coverage(pos)
        covered = unique == n
        team = (
            s.success_reward * covered
            + s.covered_weight * unique / n
            - s.distance_weight * dist.min(axis=1).mean(axis=1)
        )
        return np.repeat(team[:, None], n, axis=1), {"covered": covered, "n_covered": unique}

    def entity_groups(self):
        """Tokens: own velocity and position; each landmark and each other agent (relative position)."""
        from ..layout import blocks

        n = self.spec.n_agents
        groups = [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": blocks(4, n, 2)}]
        if n > 1:
            groups.append({"name": "agents", "index": blocks(4 + 2 * n, n - 1, 2)})
        return groups

    def observe(self, pos, vel):
        n = self.spec.n_agents
        b = pos.shape[0]
        a = pos[:, :n]
        lm = (pos[:, None, n:] - a[:, :, None]).reshape(b, n, -1)
        others = (a[:, self._others] - a[:, :, None]).reshape(b, n, -1)
        return np.concatenate([vel[:, :n], a, lm, others], axis=2).astype(np.float32)

    def metrics(self, pos, vel):
        return self.reward_and_metrics(pos, vel)[1]
