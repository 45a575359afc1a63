"""Draw a particle world into an RGB array. Never steps the env."""

from __future__ import annotations

import numpy as np

from .pg import draw_hud, even, hud_bar_for, outlined_text, pygame, surface_to_array

BACKGROUND = (245, 245, 240)
WALL = (120, 120, 120)


class ParticleDrawer:
    """Draws one world (``pos``/``vel`` of shape [E, 2]) of a particle task.

    Frames are ``size x size`` (even sides) uint8 RGB: the HUD bar on top, the
    arena (a square) below it, so the HUD never covers an entity. Agents are
    drawn at least ``MIN_AGENT`` of the arena's side across and their labels
    scale with the arena (outlined, legible on small compare tiles).
    ``highlight`` names seat indices to ring (e.g. the human's agent).
    """

    MIN_AGENT = 0.025  # smallest drawn agent radius, as a fraction of the arena side (and never under 7 px)

    def __init__(self, task, size: int = 600):
        self.task = task
        self.size = even(int(size))
        self._pg = pygame()
        self._surface = self._pg.Surface((self.size, self.size))
        s = task.spec
        self.bar = hud_bar_for(self.size, self.size)
        side = self.size - self.bar  # the arena: a square below the HUD bar, centred across
        self._x0, self._y0 = (self.size - side) / 2, float(self.bar)
        n = task.n_agents_total
        self._is_agent = np.arange(task.n_entities) < n
        self._min_agent = max(7, int(round(self.MIN_AGENT * side)))
        # the view: the walls plus room for the largest entity (drawn size) touching them
        self._half = s.world_size * 1.05
        self._scale = side / (2 * self._half)
        for _ in range(2):
            biggest = max(float(task.table.size.max()), (self._min_agent + 5) / self._scale)  # + highlight ring
            self._half = max(s.world_size * 1.05, s.world_size + biggest)
            self._scale = side / (2 * self._half)
        label = int(min(20, max(14, round(side / 24))))
        self._labels = [outlined_text(str(i), label) for i in range(task.n_controlled)]

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        px = self._x0 + (xy[..., 0] + self._half) * self._scale
        py = self._y0 + (self._half - xy[..., 1]) * self._scale
        return np.stack([px, py], axis=-1)

    def to_world(self, px: float, py: float) -> np.ndarray:
        return np.array([(px - self._x0) / self._scale - self._half, self._half - (py - self._y0) / self._scale])

    def radii_px(self) -> np.ndarray:
        """Drawn radius of every entity in pixels (agents at least ``MIN_AGENT`` of the arena)."""
        radii = np.maximum(2, (self.task.table.size * self._scale).astype(int))
        radii[self._is_agent] = np.maximum(radii[self._is_agent], self._min_agent)
        return radii

    def draw(self, pos: np.ndarray, vel: np.ndarray, hud=(), highlight=()) -> np.ndarray:
        pg = self._pg
        surf = self._surface
        surf.fill(BACKGROUND)
        s = self.task.spec
        if s.bounded:
            a, b = self.to_pixels(np.array([[-s.world_size, s.world_size], [s.world_size, -s.world_size]]))
            pg.draw.rect(surf, WALL, pg.Rect(a[0], a[1], b[0] - a[0], b[1] - a[1]), width=3)
        pix = self.to_pixels(pos)
        radii = self.radii_px()
        order = np.argsort(self._is_agent, kind="stable")  # landmarks first, agents on top
        for e in order:
            color = tuple(int(c) for c in self.task.colors[e])
            center = (float(pix[e, 0]), float(pix[e, 1]))
            if self._is_agent[e]:
                pg.draw.circle(surf, color, center, radii[e])
                pg.draw.circle(surf, (30, 30, 30), center, radii[e], width=1)
            elif self.task.table.collide[e]:
                pg.draw.circle(surf, color, center, radii[e])
            else:
                pg.draw.circle(surf, color, center, radii[e], width=2)
                pg.draw.circle(surf, color, center, 3)
        for i, label in enumerate(self._labels):
            surf.blit(label, label.get_rect(center=(float(pix[i, 0]), float(pix[i, 1]))))
        for i in highlight:
            pg.draw.circle(surf, (250, 200, 0), (float(pix[i, 0]), float(pix[i, 1])), radii[i] + 5, width=3)
        draw_hud(surf, list(hud), self.bar)
        return surface_to_array(surf)
