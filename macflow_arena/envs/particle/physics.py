"""MPE physics over a batch of worlds, pure numpy.

Arrays are ``[B, E, 2]`` for B worlds of E entities. Same equations as the
multi-agent particle environments (Lowe et al. 2017): damping, unit mass by
default, soft contact force ``contact_force * delta/dist * softplus(-(dist -
dist_min)/margin) * margin`` between colliding entities, per-entity maximum
speed, semi-implicit Euler step of ``dt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EntityTable:
    """Static per-entity properties, each an array of shape [E]."""

    size: np.ndarray
    mass: np.ndarray
    accel: np.ndarray
    max_speed: np.ndarray  # inf for unlimited
    movable: np.ndarray  # bool
    collide: np.ndarray  # bool

    @property
    def n(self) -> int:
        return int(self.size.shape[0])


class Physics:
    """Steps positions and velocities of B worlds sharing one entity table."""

    def __init__(
        self,
        table: EntityTable,
        *,
        dt: float = 0.1,
        damping: float = 0.25,
        contact_force: float = 100.0,
        contact_margin: float = 1e-3,
        bound: float | None = None,
    ):
        self.table = table
        self.dt = float(dt)
        self.damping = float(damping)
        self.contact_force = float(contact_force)
        self.contact_margin = float(contact_margin)
        self.bound = None if bound is None else float(bound)
        self._col = np.flatnonzero(table.collide)
        c = len(self._col)
        size = table.size[self._col]
        self._dist_min = (size[:, None] + size[None, :])[None]
        self._offdiag = (~np.eye(c, dtype=bool))[None]
        self._col_movable = table.movable[self._col][None, :, None]
        self._mov = np.flatnonzero(table.movable)
        self._inv_mass = (1.0 / table.mass[self._mov])[None, :, None]
        ms = table.max_speed[self._mov]
        self._speed_limited = bool(np.isfinite(ms).any())
        self._max_speed = np.where(np.isfinite(ms), ms, np.finfo(np.float64).max)[None, :]

    def contact_forces(self, pos: np.ndarray) -> np.ndarray:
        """Soft contact forces on colliding entities, ``[B, C, 2]`` (C = colliders)."""
        p = pos[:, self._col]
        delta = p[:, :, None, :] - p[:, None, :, :]
        dist = np.sqrt(np.einsum("bijk,bijk->bij", delta, delta))
        k = self.contact_margin
        pen = np.logaddexp(0.0, -(dist - self._dist_min) / k) * k
        pen = np.where(self._offdiag, pen, 0.0)
        # Coincident entities get no force (direction undefined), as 0/0 would be NaN.
        scale = np.divide(pen, dist, out=np.zeros_like(dist), where=dist > 0)
        force = self.contact_force * np.einsum("bij,bijk->bik", scale, delta)
        return force * self._col_movable

    def step(self, pos: np.ndarray, vel: np.ndarray, action_force: np.ndarray) -> None:
        """Advance ``pos``/``vel`` in place. ``action_force``: [B, E, 2] (zero where unused)."""
        force = action_force
        if len(self._col) > 1:
            force = force.copy()
            force[:, self._col] += self.contact_forces(pos)
        mov = self._mov
        v = vel[:, mov] * (1.0 - self.damping) + force[:, mov] * self._inv_mass * self.dt
        if self._speed_limited:
            speed = np.sqrt(np.einsum("bek,bek->be", v, v))
            too_fast = speed > self._max_speed
            if too_fast.any():
                factor = np.where(too_fast, self._max_speed / np.maximum(speed, 1e-12), 1.0)
                v = v * factor[..., None]
        p = pos[:, mov] + v * self.dt
        if self.bound is not None:
            b = self.bound
            out = np.abs(p) > b
            if out.any():
                p = np.clip(p, -b, b)
                v = np.where(out, 0.0, v)
        pos[:, mov] = p
        vel[:, mov] = v
