"""The scenario interface shared by particle tasks, and the common spec fields."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .physics import EntityTable

# Discrete mode (like MPE): 0 no-op, 1 left, 2 right, 3 down, 4 up.
DISCRETE_DIRECTIONS = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)


@dataclass(frozen=True)
class ParticleSpec:
    max_cycles: int = 25  # episode length in steps (truncation, never termination)
    world_size: float = 1.5  # half-width of the square arena (view, and walls when bounded)
    spawn_size: float = 1.0  # entities spawn uniformly in [-spawn_size, spawn_size]^2
    bounded: bool = True  # walls at +-world_size (MPE has none; keeps play on screen)
    discrete_actions: bool = False  # Discrete(5) moves instead of a Box(-1, 1, (2,)) force
    dt: float = 0.1  # integration step (MPE)
    damping: float = 0.25  # velocity damping per step (MPE)
    contact_force: float = 100.0  # soft-contact stiffness (MPE)
    contact_margin: float = 0.001  # soft-contact margin (MPE)
    render_fps: int = 10  # window and video frame rate

    def validate(self) -> None:
        if self.max_cycles < 1:
            raise ValueError("max_cycles must be >= 1")
        for name in ("world_size", "spawn_size", "dt", "contact_force", "contact_margin"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{name} must be a positive finite number, got {v}")
        if not 0.0 <= self.damping < 1.0:
            raise ValueError("damping must be in [0, 1)")
        if self.spawn_size > self.world_size:
            raise ValueError("spawn_size must be <= world_size")
        if self.render_fps < 1:
            raise ValueError("render_fps must be >= 1")


def positive_count(spec, *names: str) -> None:
    for name in names:
        if getattr(spec, name) < 1:
            raise ValueError(f"{name} must be >= 1")


def other_index(n: int) -> np.ndarray:
    """[n, n-1] indices of the other agents of each agent, in index order."""
    return np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp).reshape(n, n - 1)


class ParticleTask:
    """A scenario on the shared physics. Subclasses fill the attributes in ``__init__``.

    Entities are ordered: controlled agents (the PettingZoo seats, ``agent_names``),
    then agents driven inside the env (``n_internal``), then landmarks.
    """

    spec_cls = ParticleSpec
    name = "particle"

    spec: ParticleSpec
    agent_names: list[str]
    n_internal: int = 0
    table: EntityTable
    colors: np.ndarray  # [E, 3] uint8
    obs_dims: list[int]
    agent_role: list[str]  # per controlled agent: a label for humans ("agent", "predator", ...)

    @property
    def n_controlled(self) -> int:
        return len(self.agent_names)

    @property
    def n_entities(self) -> int:
        return self.table.n

    @property
    def n_agents_total(self) -> int:
        return self.n_controlled + self.n_internal

    def spawn(self, rng: np.random.Generator, pos: np.ndarray, vel: np.ndarray) -> None:
        """Fill one world's ``pos``/``vel`` ([E, 2]) for a new episode."""
        raise NotImplementedError

    def internal_force(self, pos: np.ndarray, vel: np.ndarray) -> np.ndarray | None:
        """Forces [B, n_internal, 2] for env-driven agents (already scaled by accel)."""
        return None

    def reward(self, pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
        """Per-seat rewards [B, N]."""
        raise NotImplementedError

    def observe(self, pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
        """Observations [B, N, max(obs_dims)] float32, zero-padded past each agent's dim."""
        raise NotImplementedError

    def metrics(self, pos: np.ndarray, vel: np.ndarray) -> dict[str, np.ndarray]:
        """Per-world metrics for ``info`` (each [B]); e.g. collisions, coverage."""
        return {}

    def reward_and_metrics(self, pos: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(reward(pos, vel), metrics(pos, vel))`` in one go; tasks override it to share work."""
        return self.reward(pos, vel), self.metrics(pos, vel)

    def describe(self) -> str:
        return self.name


def uniform_spawn(rng: np.random.Generator, n: int, half: float) -> np.ndarray:
    return rng.uniform(-half, half, size=(n, 2))


def agent_distances(pos_a: np.ndarray, pos_b: np.ndarray) -> np.ndarray:
    """Pairwise distances [B, A, C] between [B, A, 2] and [B, C, 2]."""
    d = pos_a[:, :, None, :] - pos_b[:, None, :, :]
    sq = d * d
    return np.sqrt(sq[..., 0] + sq[..., 1])


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, 1)
    return i, j


def colliding_pairs(pos: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Number of overlapping unordered pairs among [B, A, 2] with radii [A] -> [B]."""
    n = pos.shape[1]
    if n < 2:
        return np.zeros(pos.shape[0], dtype=np.int64)
    i, j = _pairs(n)
    d = pos[:, i] - pos[:, j]
    sq = d * d
    dist = np.sqrt(sq[..., 0] + sq[..., 1])
    lim = size[i] + size[j]
    return (dist < lim).sum(axis=1)
