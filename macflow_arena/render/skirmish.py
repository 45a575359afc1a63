"""Draw a skirmish battle into an RGB array. Never steps the env.

Units are shapes in their type's colour (``units.toml``: ``shape``, ``color``)
with a blue (ally) or red (enemy) outline, a health bar and, for shielded
types, a shield bar above. Lines show the attacks (and heals) of the last step.
A selected unit gets its sight, attack (and heal) ranges drawn and the enemies
it can attack now ringed. Allies are labelled with their index, enemies with
the number key that attacks them (1..9, 0 for the tenth). HUD top-left, a
banner when the battle is over. Frames have a constant size with even sides.
"""

from __future__ import annotations

import math

import numpy as np

from .pg import draw_hud, even, font, pygame, surface_to_array

BACKGROUND = (226, 222, 204)
GRID = (214, 209, 188)
WALL = (92, 90, 96)
ALLY = (35, 85, 225)
ENEMY = (215, 45, 40)
ALLY_SHOT = (60, 130, 255)
ENEMY_SHOT = (235, 70, 40)
HEAL = (40, 200, 90)
HP_BG = (120, 30, 30)
HP_FG = (60, 205, 70)
SHIELD_FG = (70, 200, 235)
HIGHLIGHT = (250, 200, 0)
TARGETABLE = (255, 140, 0)
DEAD = (150, 140, 130)


def enemy_key_label(k: int) -> str:
    """The label (and number key) of enemy ``k``: 1..9, then 0 for the tenth, then e11..."""
    if k < 9:
        return str(k + 1)
    if k == 9:
        return "0"
    return f"e{k + 1}"


class SkirmishDrawer:
    """Draws battle snapshots (``SkirmishCore.snapshot(i)``) of one task."""

    def __init__(self, task, size: int = 640, pad: float = 1.0):
        self.task = task
        self.units = task.units
        self.terrain = task.terrain
        w, h = self.terrain.width, self.terrain.height
        self.pad = float(pad)
        self.scale = size / (max(w, h) + 2 * self.pad)
        self.width = even(int(round((w + 2 * self.pad) * self.scale)))
        self.height = even(int(round((h + 2 * self.pad) * self.scale)))
        self._pg = pygame()
        self._surface = self._pg.Surface((self.width, self.height))
        self._overlay = self._pg.Surface((self.width, self.height), self._pg.SRCALPHA)
        self._background = self._make_background()
        self.n_allies = task.n_allies
        f = font(16)
        self._ally_labels = [f.render(str(i), True, (255, 255, 255)) for i in range(task.n_allies)]
        self._enemy_labels = [f.render(enemy_key_label(k), True, (255, 255, 255)) for k in range(task.n_enemies)]

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    # -- coordinates ------------------------------------------------------------
    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        px = (xy[..., 0] + self.pad) * self.scale
        py = (self.terrain.height + self.pad - xy[..., 1]) * self.scale
        return np.stack([px, py], axis=-1)

    def to_world(self, px: float, py: float) -> np.ndarray:
        return np.array([px / self.scale - self.pad, self.terrain.height + self.pad - py / self.scale])

    def radius_px(self, radius: float) -> int:
        return max(6, int(round(radius * self.scale)))

    def unit_at(self, snap: dict, px: float, py: float, side: str | None = None, slack: float = 6.0) -> int | None:
        """The living unit under pixel (px, py) (allies 0..A-1, enemies A..), or None.

        ``side`` = "ally" or "enemy" restricts the search; ``slack`` pixels are added
        to each unit's drawn radius so small units stay clickable.
        """
        pix = self.to_pixels(snap["pos"])
        d = np.hypot(pix[:, 0] - px, pix[:, 1] - py)
        r = np.array([self.radius_px(x) for x in snap["radius"]]) + slack
        ok = snap["alive"] & (d <= r)
        idx = np.arange(len(d))
        if side == "ally":
            ok &= idx < self.n_allies
        elif side == "enemy":
            ok &= idx >= self.n_allies
        if not ok.any():
            return None
        return int(idx[ok][np.argmin(d[ok])])

    # -- drawing ------------------------------------------------------------------
    def _make_background(self):
        pg = self._pg
        bg = pg.Surface((self.width, self.height))
        bg.fill(BACKGROUND)
        t = self.terrain
        for x in range(0, int(t.width) + 1, 4):  # light grid every 4 world units
            a, b = self.to_pixels(np.array([[x, 0.0], [x, t.height]]))
            pg.draw.line(bg, GRID, a, b)
        for y in range(0, int(t.height) + 1, 4):
            a, b = self.to_pixels(np.array([[0.0, y], [t.width, y]]))
            pg.draw.line(bg, GRID, a, b)
        for x0, y0, x1, y1 in t.wall_rects():
            (ax, ay), (bx, by) = self.to_pixels(np.array([[x0, y1], [x1, y0]]))
            pg.draw.rect(bg, WALL, pg.Rect(int(ax), int(ay), int(math.ceil(bx - ax)), int(math.ceil(by - ay))))
        (ax, ay), (bx, by) = self.to_pixels(np.array([[0.0, t.height], [t.width, 0.0]]))
        pg.draw.rect(bg, (60, 60, 60), pg.Rect(int(ax), int(ay), int(bx - ax), int(by - ay)), width=2)
        return bg

    def _shape(self, surf, shape: str, color, center, r: int, outline, width: int = 3) -> None:
        pg = self._pg
        cx, cy = center
        if shape == "circle":
            pg.draw.circle(surf, color, center, r)
            pg.draw.circle(surf, outline, center, r, width=width)
            return
        if shape == "square":
            pts = [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
        elif shape == "triangle":
            pts = [(cx, cy - r * 1.15), (cx + r, cy + r * 0.75), (cx - r, cy + r * 0.75)]
        elif shape == "diamond":
            pts = [(cx, cy - r * 1.2), (cx + r * 1.1, cy), (cx, cy + r * 1.2), (cx - r * 1.1, cy)]
        elif shape == "hexagon":
            pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 7)[:-1]]
        else:  # cross
            t = r * 0.45
            pts = [(cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t),
                   (cx + t, cy + t), (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t),
                   (cx - r, cy - t), (cx - t, cy - t)]
        pg.draw.polygon(surf, color, pts)
        pg.draw.polygon(surf, outline, pts, width=width)

    def _bar(self, surf, x: float, y: float, w: int, frac: float, fg) -> None:
        pg = self._pg
        pg.draw.rect(surf, HP_BG, pg.Rect(int(x), int(y), w, 4))
        fill = int(round(w * min(max(frac, 0.0), 1.0)))
        if fill:
            pg.draw.rect(surf, fg, pg.Rect(int(x), int(y), fill, 4))

    def attackable(self, snap: dict, unit: int) -> np.ndarray:
        """Indices of the enemies of ``unit`` it can attack now (alive, in range)."""
        a = self.n_allies
        if not snap["alive"][unit] or self.units.damage[snap["types"][unit]] <= 0:
            return np.zeros(0, dtype=np.intp)
        foes = np.arange(a, len(snap["alive"])) if unit < a else np.arange(a)
        gap = snap["pos"][foes] - snap["pos"][unit]
        edge = np.hypot(gap[:, 0], gap[:, 1]) - snap["radius"][foes] - snap["radius"][unit]
        return foes[snap["alive"][foes] & (edge <= snap["range"][unit])]

    def draw(self, snap: dict, hud=(), highlight=(), selected: int | None = None, banner: str | None = None,
             marker=None) -> np.ndarray:
        """The frame for ``snap``. ``highlight``: unit indices to ring (human seats);
        ``selected``: the unit whose ranges and attackable enemies are shown;
        ``marker``: a world point (e.g. a move order) drawn as a small cross."""
        pg = self._pg
        surf = self._surface
        surf.blit(self._background, (0, 0))
        a = self.n_allies
        pos, alive, types = snap["pos"], snap["alive"], snap["types"]
        pix = self.to_pixels(pos)
        n = len(alive)
        radii = [self.radius_px(r) for r in snap["radius"]]

        # ranges of the selected unit (translucent)
        ov = self._overlay
        ov.fill((0, 0, 0, 0))
        if selected is not None and 0 <= selected < n and alive[selected]:
            c = (float(pix[selected, 0]), float(pix[selected, 1]))
            sight = snap["sight"][selected] * self.scale
            pg.draw.circle(ov, (255, 255, 255, 70), c, sight)
            pg.draw.circle(ov, (90, 90, 90, 160), c, sight, width=1)
            reach = (snap["range"][selected] + snap["radius"][selected]) * self.scale
            if self.units.damage[types[selected]] > 0:
                pg.draw.circle(ov, (255, 140, 0, 60), c, reach)
                pg.draw.circle(ov, (255, 140, 0, 200), c, reach, width=2)
            if snap["healer"][selected]:
                heal = (snap["heal_range"][selected] + snap["radius"][selected]) * self.scale
                pg.draw.circle(ov, (40, 200, 90, 60), c, heal)
                pg.draw.circle(ov, (40, 200, 90, 200), c, heal, width=2)
        surf.blit(ov, (0, 0))

        # dead units: small grey crosses
        for i in np.flatnonzero(~alive):
            x, y = pix[i]
            pg.draw.line(surf, DEAD, (x - 4, y - 4), (x + 4, y + 4), 2)
            pg.draw.line(surf, DEAD, (x - 4, y + 4), (x + 4, y - 4), 2)

        # attack and heal lines of the last step
        for i in range(n):
            t = snap["target"][i]
            if t >= 0:
                pg.draw.line(surf, ALLY_SHOT if i < a else ENEMY_SHOT, pix[i], pix[t], 3)
                pg.draw.circle(surf, ALLY_SHOT if i < a else ENEMY_SHOT, pix[t], 4)
            h = snap["heal_target"][i]
            if h >= 0:
                pg.draw.line(surf, HEAL, pix[i], pix[h], 4)

        if selected is not None and 0 <= selected < n:
            for k in self.attackable(snap, selected):
                pg.draw.circle(surf, TARGETABLE, pix[k], radii[k] + 7, width=3)

        # units
        for i in np.flatnonzero(alive):
            tid = types[i]
            center = (float(pix[i, 0]), float(pix[i, 1]))
            r = radii[i]
            color = tuple(int(c) for c in self.units.colors[tid])
            self._shape(surf, self.units.shapes[tid], color, center, r, ALLY if i < a else ENEMY)
            label = self._ally_labels[i] if i < a else self._enemy_labels[i - a]
            surf.blit(label, label.get_rect(center=center))
            w = 2 * r + 6
            top = center[1] - r - 9
            self._bar(surf, center[0] - w / 2, top, w, snap["hp"][i] / snap["max_hp"][i], HP_FG)
            if snap["max_shield"][i] > 0:
                self._bar(surf, center[0] - w / 2, top - 5, w, snap["shield"][i] / snap["max_shield"][i], SHIELD_FG)
        for i in highlight:
            if 0 <= i < n and alive[i]:
                pg.draw.circle(surf, HIGHLIGHT, pix[i], radii[i] + 5, width=3)
        if marker is not None:
            mx, my = self.to_pixels(np.asarray(marker))
            pg.draw.line(surf, HIGHLIGHT, (mx - 6, my - 6), (mx + 6, my + 6), 3)
            pg.draw.line(surf, HIGHLIGHT, (mx - 6, my + 6), (mx + 6, my - 6), 3)

        draw_hud(surf, list(hud))
        if banner:
            self._banner(surf, banner)
        return surface_to_array(surf)

    def _banner(self, surf, text: str) -> None:
        pg = self._pg
        f = font(64)
        color = {"VICTORY": (40, 160, 60), "DEFEAT": (200, 40, 40)}.get(text, (60, 60, 60))
        r = f.render(text, True, color)
        panel = pg.Surface((r.get_width() + 40, r.get_height() + 20), pg.SRCALPHA)
        panel.fill((255, 255, 255, 200))
        rect = panel.get_rect(center=(self.width // 2, self.height // 2))
        surf.blit(panel, rect)
        surf.blit(r, r.get_rect(center=rect.center))
