"""Draw a particle world into an RGB array. Never steps the env."""

from __future__ import annotations

import numpy as np

from .pg import draw_hud, even, font, pygame, surface_to_array

BACKGROUND = (245, 245, 240)
WALL = (120, 120, 120)


class ParticleDrawer:
    """Draws one world (``pos``/``vel`` of shape [E, 2]) of a particle task.

    Frames are ``size x size`` (even sides) uint8 RGB. ``highlight`` names seat
    indices to ring (e.g. the human's agent).
    """

    def __init__(self, task, size: int = 600):
        self.task = task
        self.size = even(int(size))
        self._pg = pygame()
        self._surface = self._pg.Surface((self.size, self.size))
        s = task.spec
        self._half = s.world_size * 1.05
        self._scale = self.size / (2 * self._half)
        n = task.n_agents_total
        self._is_agent = np.arange(task.n_entities) < n
        self._labels = [font(18).render(str(i), True, (255, 255, 255)) for i in range(task.n_controlled)]

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        px = (xy[..., 0] + self._half) * self._scale
        py = (self._half - xy[..., 1]) * self._scale
        return np.stack([px, py], axis=-1)

    def to_world(self, px: float, py: float) -> np.ndarray:
        return np.array([px / self._scale - self._half, self._half - py / self._scale])

    def draw(self, pos: np.ndarray, vel: np.ndarray, hud=(), highlight=()) -> np.ndarray:
        pg = self._pg
        surf = self._surface
        surf.fill(BACKGROUND)
        s = self.task.spec
        if s.bounded:
            a, b = self.to_pixels(np.array([[-s.world_size, s.world_size], [s.world_size, -s.world_size]]))
            pg.draw.rect(surf, WALL, pg.Rect(a[0], a[1], b[0] - a[0], b[1] - a[1]), width=3)
        pix = self.to_pixels(pos)
        radii = np.maximum(2, (self.task.table.size * self._scale).astype(int))
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
        draw_hud(surf, list(hud))
        return surface_to_array(surf)
