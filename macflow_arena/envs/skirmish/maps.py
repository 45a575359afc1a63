"""Terrain (bounds and walls from an ASCII layout) and start positions / team draws.

Everything random here takes the battle's ``np.random.Generator`` and runs at
reset only; stepping never draws random numbers from a generator.
"""

from __future__ import annotations

import math

import numpy as np

from ...spec import SpecError

# Moves north, south, east, west (actions 2..5): y grows north, x grows east.
DIRECTIONS = np.array([[0.0, 1.0], [0.0, -1.0], [1.0, 0.0], [-1.0, 0.0]])


class Terrain:
    """The playable rectangle ``[0, width] x [0, height]`` and its wall cells."""

    def __init__(self, width: float, height: float, layout=()):
        self.width = float(width)
        self.height = float(height)
        rows = list(layout)
        if rows:
            self.rows, self.cols = len(rows), len(rows[0])
            # free[r, c] with r counted from the south edge (layout rows are north first).
            self.free = np.array([[ch != "#" for ch in row] for row in reversed(rows)], dtype=bool)
        else:
            self.rows = self.cols = 1
            self.free = np.ones((1, 1), dtype=bool)
        self.cell_w = self.width / self.cols
        self.cell_h = self.height / self.rows
        self.has_walls = not bool(self.free.all())
        self._free_flat = self.free.ravel()

    @property
    def min_cell(self) -> float:
        return min(self.cell_w, self.cell_h) if self.has_walls else math.inf

    def passable(self, xy: np.ndarray) -> np.ndarray:
        """Whether each point ``xy[..., 2]`` is inside the map and not in a wall."""
        x, y = xy[..., 0], xy[..., 1]
        inside = (x >= 0.0) & (x <= self.width) & (y >= 0.0) & (y <= self.height)
        if not self.has_walls:
            return inside
        c = np.clip((x / self.cell_w).astype(np.intp), 0, self.cols - 1)
        r = np.clip((y / self.cell_h).astype(np.intp), 0, self.rows - 1)
        return inside & self._free_flat[r * self.cols + c]

    def wall_rects(self) -> list[tuple[float, float, float, float]]:
        """Wall cells as (x0, y0, x1, y1) world rectangles (for drawing)."""
        out = []
        for r, c in zip(*np.nonzero(~self.free)):
            out.append((c * self.cell_w, r * self.cell_h, (c + 1) * self.cell_w, (r + 1) * self.cell_h))
        return out


def formation(n: int, centre, spacing: float, away: float) -> np.ndarray:
    """``n`` start slots [n, 2]: columns of at most 5 around ``centre``; extra columns
    step ``away`` (+1 east, -1 west) from the enemy."""
    per_col = min(n, 5)
    out = np.zeros((n, 2))
    for i in range(n):
        col, row = divmod(i, per_col)
        in_col = min(per_col, n - col * per_col)
        out[i, 0] = centre[0] + away * col * spacing
        out[i, 1] = centre[1] + (row - (in_col - 1) / 2.0) * spacing
    return out


def check_slots(terrain: Terrain, slots: np.ndarray, jitter: float, where: str) -> None:
    """Every start box (slot +- jitter) lies inside the map and off the walls.

    With 2 * jitter <= the cell size each box meets at most 2 x 2 cells, each holding
    one of its corners, so free corners mean a free box: reset needs no checks.
    """
    if terrain.has_walls and 2 * jitter > terrain.min_cell:
        raise SpecError(f"{where}: spawn_jitter {jitter} must be at most half the wall cell size {terrain.min_cell:.2f}")
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1], [0, 0]]) * jitter
    for p in slots:
        if not terrain.passable(p + corners).all():
            raise SpecError(
                f"{where}: start position ({p[0]:.2f}, {p[1]:.2f}) with spawn_jitter {jitter} "
                f"leaves the map or touches a wall; move the spawn or shrink the team"
            )


def draw_team(rng: np.random.Generator, pool: np.ndarray, p: np.ndarray, n: int, healer: np.ndarray,
              prefix: np.ndarray | None = None) -> np.ndarray:
    """``n`` type ids drawn from ``pool`` with probabilities ``p``; never only healers.

    With ``prefix`` (mirrored teams) the first ``len(prefix)`` ids are copied and the
    rest drawn.
    """
    for _ in range(1000):
        drawn = pool[rng.choice(len(pool), size=n, p=p)]
        if prefix is not None:
            k = min(len(prefix), n)
            drawn[:k] = prefix[:k]
        if not healer[drawn].all():
            return drawn
    raise SpecError("could not draw a team with a unit that attacks; give attacking types more weight")


def random_positions(rng: np.random.Generator, terrain: Terrain, n: int, box, keep=None) -> np.ndarray:
    """``n`` passable points uniform in ``box`` = (x0, y0, x1, y1) for which ``keep(points)`` holds."""
    x0, y0, x1, y1 = box
    out = np.zeros((n, 2))
    got = 0
    for _ in range(200):
        cand = np.stack([rng.uniform(x0, x1, size=4 * n), rng.uniform(y0, y1, size=4 * n)], axis=1)
        ok = terrain.passable(cand)
        if keep is not None:
            ok &= keep(cand)
        cand = cand[ok][: n - got]
        out[got : got + len(cand)] = cand
        got += len(cand)
        if got == n:
            return out
    raise SpecError(f"could not place {n} units in the start region {box}: too many walls there")


def procedural_positions(rng, terrain: Terrain, spec, n_allies: int, n_enemies: int) -> np.ndarray:
    """Start positions [A + E, 2] for a procedural map (SMACv2-like)."""
    w, h, m = terrain.width, terrain.height, spec.start_margin
    if spec.start == "reflect":
        west = (m, m, max(m + 1e-6, 0.3 * w), h - m)
        east = (min(w - m - 1e-6, 0.7 * w), m, w - m, h - m)
        if rng.random() < 0.5:
            west, east = east, west
        allies = random_positions(rng, terrain, n_allies, west)
        enemies = random_positions(rng, terrain, n_enemies, east)
    else:  # surrounded: allies in the middle, enemies around them
        cx, cy, r = w / 2, h / 2, 0.1 * min(w, h)
        allies = random_positions(rng, terrain, n_allies, (cx - r, cy - r, cx + r, cy + r))
        ring = 0.35 * min(w, h)
        enemies = random_positions(
            rng, terrain, n_enemies, (m, m, w - m, h - m),
            keep=lambda p: np.hypot(p[:, 0] - cx, p[:, 1] - cy) >= ring,
        )
    return np.concatenate([allies, enemies], axis=0)
