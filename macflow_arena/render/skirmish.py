"""Draw a skirmish battle into an RGB array. Never steps the env.

Units are shapes in their type's colour (``units.toml``: ``shape``, ``color``)
with a blue (ally) or red (enemy) outline, a health bar and, for shielded
types, a shield bar above. Lines show the attacks (and heals) of the last step.
A selected unit gets its sight, attack (and heal) ranges drawn and the enemies
it can attack now ringed. Allies are labelled with their index, enemies with
the number key that attacks them (1..9, 0 for the tenth). The HUD is a bar
above the arena, a banner shows when the battle is over. Frames have a
constant size with even sides.

The camera frames the battle, not the whole map: it shows the box around
every unit (alive or fallen) plus ``CAMERA_MARGIN`` world units, at least
``CAMERA_MIN`` units across, fitted to the frame's shape and kept on the map
(the whole map when that box is larger). It follows the units as they move;
``to_pixels``/``to_world`` use the camera of the last drawn frame.
"""

from __future__ import annotations

import math

import numpy as np

from .pg import draw_hud, even, font, hud_bar_for, outlined_text, pygame, surface_to_array

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
CAMERA_MARGIN = 2.5  # world units of ground shown around the units
CAMERA_MIN = 10.0  # the camera's smallest extent (world units), so a duel is not a close-up


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
        self.bar = hud_bar_for(self.width, self.height)
        self.n_allies = task.n_allies
        self._label_cache: dict[tuple[str, int], object] = {}
        self.set_camera(-self.pad, -self.pad, w + self.pad, h + self.pad)  # the whole map until the first frame

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    # -- camera and coordinates ---------------------------------------------------
    def set_camera(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Show the world box [x0, x1] x [y0, y1] in the arena below the HUD bar (fitted to its shape)."""
        aw, ah = self.width, self.height - self.bar
        cw, ch = x1 - x0, y1 - y0
        if cw / ch < aw / ah:  # widen to the arena's shape, keeping the centre
            grow = ch * aw / ah - cw
            x0, x1 = x0 - grow / 2, x1 + grow / 2
        else:
            grow = cw * ah / aw - ch
            y0, y1 = y0 - grow / 2, y1 + grow / 2
        self.camera = (x0, y0, x1, y1)
        self.scale = aw / (x1 - x0)

    def frame_units(self, pos: np.ndarray) -> None:
        """Aim the camera at ``pos`` (every unit): their box plus the margin, kept on the map."""
        t = self.terrain
        lo = pos.min(axis=0) - CAMERA_MARGIN
        hi = pos.max(axis=0) + CAMERA_MARGIN
        full = np.array([t.width, t.height]) + 2 * self.pad
        ext = np.minimum(np.maximum(hi - lo, CAMERA_MIN), full)
        aw, ah = self.width, self.height - self.bar
        ext = np.minimum(np.maximum(ext, [ext[1] * aw / ah, ext[0] * ah / aw]), full)  # the arena's shape if it fits
        centre = (lo + hi) / 2
        lo = np.clip(centre - ext / 2, -self.pad, full - self.pad - ext)
        self.set_camera(lo[0], lo[1], lo[0] + ext[0], lo[1] + ext[1])

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        x0, _, _, y1 = self.camera
        px = (xy[..., 0] - x0) * self.scale
        py = self.bar + (y1 - xy[..., 1]) * self.scale
        return np.stack([px, py], axis=-1)

    def to_world(self, px: float, py: float) -> np.ndarray:
        x0, _, _, y1 = self.camera
        return np.array([px / self.scale + x0, y1 - (py - self.bar) / self.scale])

    def radius_px(self, radius: float) -> int:
        return max(6, int(round(radius * self.scale)))

    def _label(self, text: str, r: int):
        size = int(min(22, max(13, round(r * 1.3))))
        key = (text, size)
        if key not in self._label_cache:
            self._label_cache[key] = outlined_text(text, size)
        return self._label_cache[key]

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
    def _draw_ground(self, bg) -> None:
        pg = self._pg
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
        a = self.n_allies
        pos, alive, types = snap["pos"], snap["alive"], snap["types"]
        self.frame_units(pos)
        self._draw_ground(surf)
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
            label = self._label(str(i) if i < a else enemy_key_label(i - a), r)
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

        draw_hud(surf, list(hud), self.bar)
        if banner:
            self._banner(surf, banner)
        return surface_to_array(surf)

    def _banner(self, surf, text: str) -> None:
        pg = self._pg
        f = font(int(min(64, max(28, self.width // 10))))
        color = {"VICTORY": (40, 160, 60), "DEFEAT": (200, 40, 40)}.get(text, (60, 60, 60))
        r = f.render(text, True, color)
        panel = pg.Surface((r.get_width() + 40, r.get_height() + 20), pg.SRCALPHA)
        panel.fill((255, 255, 255, 200))
        rect = panel.get_rect(center=(self.width // 2, (self.height + self.bar) // 2))
        surf.blit(panel, rect)
        surf.blit(r, r.get_rect(center=rect.center))
