"""Charts drawn with pygame (no matplotlib): a white canvas, a plot rectangle, axes, ticks, labels, PNG.

``Chart`` maps data coordinates to pixels (linear axes, or log10 with ``xlog``/``ylog``)
and draws the frame and text; the caller draws marks with ``pygame.draw`` at
``chart.x(v), chart.y(v)``. ``save`` writes the PNG atomically. Used by the
dataset card's return histogram (``data/plot.py``) and the run report's figure.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from .pg import font, pygame

BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
GRID = (225, 225, 225)


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis over [lo, hi]: powers of ten, plus 2x and 5x when fewer than three fit;
    on a range too narrow for those, three values spread evenly (in log space), rounded to 2 digits."""
    ticks = [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    inside = [t for t in ticks if lo <= t <= hi]
    if len(inside) < 3:
        inside = sorted(t * m for t in ticks for m in (1, 2, 5) if lo <= t * m <= hi)
    if len(inside) < 2:
        inside = sorted({float(f"{lo * (hi / lo) ** f:.2g}") for f in (0.15, 0.5, 0.85)})
    return inside


def padded_range(lo: float, hi: float, frac: float = 0.08, log: bool = False) -> tuple[float, float]:
    """[lo, hi] widened by ``frac`` of its span on each side (in log space for a log axis); never empty."""
    if log:
        a, b = padded_range(math.log10(lo), math.log10(hi), frac)
        return 10.0 ** a, 10.0 ** b
    if hi <= lo:
        return lo - 0.5, hi + 0.5
    pad = (hi - lo) * frac
    return lo - pad, hi + pad


class Chart:
    def __init__(self, size: tuple[int, int] = (720, 420), margins: tuple[int, int, int, int] = (70, 20, 50, 50),
                 xlim: tuple[float, float] = (0.0, 1.0), ylim: tuple[float, float] = (0.0, 1.0),
                 xlog: bool = False, ylog: bool = False):
        self.pg = pygame()
        self.w, self.h = size
        self.left, self.right, self.top, self.bottom = margins
        self.pw, self.ph = self.w - self.left - self.right, self.h - self.top - self.bottom
        self.xlim, self.ylim, self.xlog, self.ylog = xlim, ylim, xlog, ylog
        self.surf = self.pg.Surface(size)
        self.surf.fill(WHITE)

    @staticmethod
    def _frac(v: float, lim: tuple[float, float], log: bool) -> float:
        lo, hi = lim
        if log:
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return (v - lo) / (hi - lo)

    def x(self, v: float) -> int:
        return self.left + int(self._frac(v, self.xlim, self.xlog) * self.pw)

    def y(self, v: float) -> int:
        return self.top + self.ph - int(self._frac(v, self.ylim, self.ylog) * self.ph)

    def text(self, s: str, pos: tuple[int, int], size: int = 18, color=BLACK, anchor: str = "topleft",
             background=None, avoid: list | None = None):
        """Blit ``s`` with its ``anchor`` (a pygame.Rect attribute, e.g. "midtop") at ``pos``; return its rect.
        With ``avoid`` (a list of rects), move down until clear of them and append the rect used."""
        img = font(size).render(str(s), True, color, background)
        rect = img.get_rect(**{anchor: pos})
        if avoid is not None:
            while rect.collidelist(avoid) >= 0:
                rect.move_ip(0, rect.height // 2 + 1)
            avoid.append(rect)
        self.surf.blit(img, rect)
        return rect

    def frame(self) -> None:
        """The left and bottom axis lines."""
        bottom = self.top + self.ph
        self.pg.draw.line(self.surf, BLACK, (self.left, bottom), (self.left + self.pw, bottom))
        self.pg.draw.line(self.surf, BLACK, (self.left, self.top), (self.left, bottom))

    def xticks(self, values, fmt=str, grid: bool = False) -> None:
        for v in values:
            if grid:
                self.pg.draw.line(self.surf, GRID, (self.x(v), self.top), (self.x(v), self.top + self.ph))
            self.text(fmt(v), (self.x(v), self.top + self.ph + 6), anchor="midtop")

    def yticks(self, values, fmt=str, grid: bool = False) -> None:
        for v in values:
            if grid:
                self.pg.draw.line(self.surf, GRID, (self.left, self.y(v)), (self.left + self.pw, self.y(v)))
            self.text(fmt(v), (self.left - 8, self.y(v)), anchor="midright")

    def title(self, s: str) -> None:
        self.text(s, (self.left, 12), size=24)

    def xlabel(self, s: str) -> None:
        self.text(s, (self.left + self.pw // 2, self.h - 8), anchor="midbottom")

    def ylabel(self, s: str) -> None:
        img = self.pg.transform.rotate(font(18).render(s, True, BLACK), 90)
        self.surf.blit(img, img.get_rect(midleft=(6, self.top + self.ph // 2)))

    def save(self, out: str | os.PathLike) -> Path:
        """Write the canvas as PNG atomically (the file appears only when complete)."""
        from ..data.fsio import atomic_write

        out = Path(out)
        if out.suffix.lower() != ".png":
            raise ValueError(f"a chart is saved as PNG; give a file name ending in .png, got {str(out)!r}")
        buf = io.BytesIO()
        self.pg.image.save(self.surf, buf, "chart.png")
        out.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(out.parent, out.name, buf.getvalue(), replace=True)
