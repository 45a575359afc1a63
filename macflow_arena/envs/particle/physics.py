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


def _index(mask: np.ndarray):
    """Entities selected by ``mask`` as a slice when they are one contiguous run (a view, no copy)."""
    idx = np.flatnonzero(mask)
    if idx.size and idx[-1] - idx[0] + 1 == idx.size:
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


class Physics:
    """Steps positions and velocities of B worlds sharing one entity table.

    The contact force is evaluated once per unordered pair of colliders; the
    per-entity sums run over the other colliders in index order, exactly as
    the reference formulation ``einsum("bij,bijk->bik", scale, delta)`` over
    the full C x C matrix does, so results are bit-identical to it (and
    independent of the batch size B).
    """

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
        col = np.flatnonzero(table.collide)
        self._n_col = c = len(col)
        self._col = _index(table.collide)
        size = table.size[col]
        self._pi, self._pj = np.triu_indices(c, 1)  # unordered collider pairs i < j
        # Collider i's k-th other collider j (in index order) as an index into
        # concat([force on i from j for pairs (i<j), force on j from i = its negation]).
        n_pairs = len(self._pi)
        slot = {}
        for n, (i, j) in enumerate(zip(self._pi.tolist(), self._pj.tolist())):
            slot[i, j], slot[j, i] = n, n + n_pairs
        self._gather = np.array([[slot[i, j] for j in range(c) if j != i] for i in range(c)], dtype=np.intp).reshape(c, max(c - 1, 0))
        self._pair_dist_min = (size[:, None] + size[None, :])[self._pi, self._pj]
        movable = table.movable[col]
        self._col_movable = movable[None, :, None]
        self._all_col_movable = bool(movable.all())
        self._mov = _index(table.movable)
        inv_mass = 1.0 / table.mass[np.flatnonzero(table.movable)]
        self._unit_mass = bool((inv_mass == 1.0).all())
        self._inv_mass = inv_mass[None, :, None]
        ms = table.max_speed[np.flatnonzero(table.movable)]
        self._speed_limited = bool(np.isfinite(ms).any())
        self._max_speed = np.where(np.isfinite(ms), ms, np.finfo(np.float64).max)[None, :]

    def contact_forces(self, pos: np.ndarray) -> np.ndarray:
        """Soft contact forces on colliding entities, ``[B, C, 2]`` (C = colliders)."""
        c = self._n_col
        p = pos[:, self._col]
        delta = p[:, self._pi] - p[:, self._pj]  # [B, P, 2]: from collider j to collider i
        sq = delta * delta
        dist = np.sqrt(sq[..., 0] + sq[..., 1])
        k = self.contact_margin
        pen = np.logaddexp(0.0, (self._pair_dist_min - dist) / k) * k  # (dmin - d) == -(d - dmin) exactly
        # Coincident entities get no force (direction undefined), as 0/0 would be NaN.
        scale = pen / np.where(dist > 0, dist, np.inf)
        pair = scale[..., None] * delta  # on i from j; on j from i it is exactly -pair
        terms = np.concatenate([pair, -pair], axis=1)[:, self._gather]  # [B, C, C-1, 2]
        # Sum over the others in index order, from +0.0: bit-identical to the einsum
        # over the full matrix (whose diagonal terms are +0.0).
        acc = 0.0 + terms[:, :, 0]
        for j in range(1, c - 1):
            acc += terms[:, :, j]
        force = self.contact_force * acc
        return force if self._all_col_movable else force * self._col_movable

    def step(self, pos: np.ndarray, vel: np.ndarray, action_force: np.ndarray) -> None:
        """Advance ``pos``/``vel`` in place. ``action_force``: [B, E, 2] (zero where unused)."""
        force = action_force
        if self._n_col > 1:
            force = force.copy()
            force[:, self._col] += self.contact_forces(pos)
        mov = self._mov
        f = force[:, mov]
        if not self._unit_mass:
            f = f * self._inv_mass
        v = vel[:, mov] * (1.0 - self.damping) + f * self.dt
        if self._speed_limited:
            sq = v * v
            speed = np.sqrt(sq[..., 0] + sq[..., 1])
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
