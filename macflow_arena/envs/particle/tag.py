"""particle/tag: predators (the team) chase faster prey among obstacles (MPE simple_tag).

The prey is driven inside the env by a scripted fleeing policy
(``prey_control = "scripted"``, the default: the env's agents are the predators
only) or is a seat of its own (``prey_control = "external"``: a human, or any
policy, plays against the team).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import EntityTable
from .task import ParticleSpec, ParticleTask, agent_distances, other_index, positive_count


@dataclass(frozen=True)
class TagSpec(ParticleSpec):
    max_cycles: int = 50
    n_predators: int = 3  # the team
    n_prey: int = 1  # faster agents to catch
    n_obstacles: int = 2  # static round obstacles
    prey_control: str = "scripted"  # "scripted" (inside the env) or "external" (prey are seats)
    predator_size: float = 0.075  # MPE adversary radius
    prey_size: float = 0.05  # MPE good-agent radius
    obstacle_size: float = 0.2  # MPE landmark radius
    predator_accel: float = 3.0  # MPE
    prey_accel: float = 4.0  # MPE
    predator_max_speed: float = 1.0  # MPE
    prey_max_speed: float = 1.3  # MPE
    catch_reward: float = 10.0  # team reward per predator-prey contact per step
    distance_shaping: float = 0.0  # team reward -= weight * sum over predators of distance to nearest prey

    def validate(self) -> None:
        super().validate()
        positive_count(self, "n_predators", "n_prey")
        if self.n_obstacles < 0:
            raise ValueError("n_obstacles must be >= 0")
        if self.prey_control not in ("scripted", "external"):
            raise ValueError(f"prey_control must be 'scripted' or 'external', got {self.prey_control!r}")


def flee_direction(prey_pos, predator_pos, obstacle_pos, obstacle_size, bound):
    """Unit flight directions [B, Q, 2] for prey at [B, Q, 2].

    Repelled by predators (inverse-square), by obstacles close by and by the
    arena walls; the scripted prey and the prey seat's scripted policy use it.
    """
    away = prey_pos[:, :, None, :] - predator_pos[:, None, :, :]
    d2 = np.einsum("bqpk,bqpk->bqp", away, away) + 1e-6
    push = (away / (d2[..., None] ** 1.5)).sum(axis=2)
    if obstacle_pos.shape[1]:
        off = prey_pos[:, :, None, :] - obstacle_pos[:, None, :, :]
        dist = np.sqrt(np.einsum("bqlk,bqlk->bql", off, off)) + 1e-6
        gap = np.maximum(dist - obstacle_size, 0.02)
        push = push + 0.3 * (off / (dist[..., None] * gap[..., None] ** 2)).sum(axis=2)
    if bound is not None:
        # Walls repel like a predator standing just beyond them.
        lo = np.maximum(prey_pos + bound, 0.02)
        hi = np.maximum(bound - prey_pos, 0.02)
        push = push + 0.5 * (1.0 / lo**2 - 1.0 / hi**2)
    norm = np.sqrt(np.einsum("bqk,bqk->bq", push, push))[..., None]
    return np.divide(push, norm, out=np.zeros_like(push), where=norm > 0)


class TagTask(ParticleTask):
    spec_cls = TagSpec
    name = "tag"

    def __init__(self, spec: TagSpec):
        self.spec = spec
        p, q, m = spec.n_predators, spec.n_prey, spec.n_obstacles
        external = spec.prey_control == "external"
        self.agent_names = [f"predator_{i}" for i in range(p)]
        self.agent_role = ["predator"] * p
        if external:
            self.agent_names += [f"prey_{i}" for i in range(q)]
            self.agent_role += ["prey"] * q
        self.n_internal = 0 if external else q
        a = p + q
        self.table = EntityTable(
            size=np.array([spec.predator_size] * p + [spec.prey_size] * q + [spec.obstacle_size] * m),
            mass=np.ones(a + m),
            accel=np.array([spec.predator_accel] * p + [spec.prey_accel] * q + [0.0] * m),
            max_speed=np.array([spec.predator_max_speed] * p + [spec.prey_max_speed] * q + [np.inf] * m),
            movable=np.array([True] * a + [False] * m),
            collide=np.array([True] * (a + m)),
        )
        self.colors = np.array(
            [[217, 89, 89]] * p + [[89, 217, 89]] * q + [[64, 64, 64]] * m, dtype=np.uint8
        )
        base = 4 + 2 * m + 2 * (a - 1)
        self.obs_dims = [base + 2 * q] * p + ([base + 2 * (q - 1)] * q if external else [])
        self._others = other_index(a)
        self._other_prey = other_index(q)
        self._bound = spec.world_size if spec.bounded else None

    def spawn(self, rng, pos, vel):
        s = self.spec
        a = s.n_predators + s.n_prey
        pos[:a] = rng.uniform(-s.spawn_size, s.spawn_size, size=(a, 2))
        pos[a:] = rng.uniform(-0.9 * s.spawn_size, 0.9 * s.spawn_size, size=(s.n_obstacles, 2))
        vel[:] = 0.0

    def _split(self, pos):
        p, q = self.spec.n_predators, self.spec.n_prey
        return pos[:, :p], pos[:, p : p + q], pos[:, p + q :]

    def internal_force(self, pos, vel):
        if self.n_internal == 0:
            return None
        pred, prey, obst = self._split(pos)
        d = flee_direction(prey, pred, obst, self.spec.obstacle_size, self._bound)
        return d * self.spec.prey_accel

    def _contacts(self, pos):
        pred, prey, _ = self._split(pos)
        lim = self.spec.predator_size + self.spec.prey_size
        return agent_distances(pred, prey) < lim  # [B, P, Q]

    def reward(self, pos, vel):
        return self.reward_and_metrics(pos, vel)[0]

    def reward_and_metrics(self, pos, vel):
        s = self.spec
        hits = self._contacts(pos)
        catches = hits.sum(axis=(1, 2))
        team = s.catch_reward * catches
        if s.distance_shaping:
            pred, prey, _ = self._split(pos)
            team = team - s.distance_shaping * agent_distances(pred, prey).min(axis=2).sum(axis=1)
        rew = np.empty((pos.shape[0], self.n_controlled))
        rew[:, : s.n_predators] = team[:, None]
        if self.n_internal == 0:
            rew[:, s.n_predators :] = -s.catch_reward * hits.sum(axis=1)
        return rew, {"catches": catches}

    def entity_groups(self):
        """Tokens (a predator's view): own velocity and position; each obstacle and each other
        predator (relative position); each prey (relative position and velocity)."""
        from ..layout import blocks

        s = self.spec
        p, q, m = s.n_predators, s.n_prey, s.n_obstacles
        a = p + q
        o0 = 4 + 2 * m  # relative positions of the other agents: predators (p - 1), then prey (q)
        v0 = o0 + 2 * (a - 1)  # prey velocities
        groups = [{"name": "self", "index": [[0, 1, 2, 3]]}]
        if m:
            groups.append({"name": "obstacles", "index": blocks(4, m, 2)})
        if p > 1:
            groups.append({"name": "predators", "index": blocks(o0, p - 1, 2)})
        prey = [[o0 + 2 * (p - 1 + k), o0 + 2 * (p - 1 + k) + 1, v0 + 2 * k, v0 + 2 * k + 1] for k in range(q)]
        groups.append({"name": "prey", "index": prey})
        return groups

    def observe(self, pos, vel):
        s = self.spec
        p, q = s.n_predators, s.n_prey
        a = p + q
        b = pos.shape[0]
        ag = pos[:, :a]
        obst = (pos[:, None, a:] - ag[:, :, None]).reshape(b, a, -1)
        others = (ag[:, self._others] - ag[:, :, None]).reshape(b, a, -1)
        head = np.concatenate([vel[:, :a], ag, obst, others], axis=2)
        prey_vel = vel[:, p:a]
        pred_obs = np.concatenate(
            [head[:, :p], np.broadcast_to(prey_vel.reshape(b, 1, -1), (b, p, 2 * q))], axis=2
        )
        if self.n_internal:
            return pred_obs.astype(np.float32)
        prey_obs = np.zeros((b, q, pred_obs.shape[2]))
        prey_obs[:, :, : head.shape[2]] = head[:, p:]
        if q > 1:
            prey_obs[:, :, head.shape[2] :-2] = prey_vel[:, self._other_prey].reshape(b, q, -1)
        return np.concatenate([pred_obs, prey_obs], axis=1).astype(np.float32)

    def metrics(self, pos, vel):
        return {"catches": self._contacts(pos).sum(axis=(1, 2))}
