"""Return histogram of a dataset as a PNG, drawn with pygame (no matplotlib needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def return_histogram_png(returns: np.ndarray, out: str | os.PathLike, title: str, bins: int = 30,
                         refs: dict | None = None, size: tuple[int, int] = (720, 420)) -> Path:
    """Draw a histogram of ``returns`` (with reference-return markers) and save it atomically as PNG."""
    from ..render.pg import font, pygame

    pg = pygame()
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--plot needs a .png file name, got {str(out)!r}")
    r = np.asarray(returns, dtype=np.float64)
    if not r.size:
        raise ValueError("no episodes to plot")
    w, h = size
    left, right, top, bottom = 70, 20, 50, 50
    surf = pg.Surface((w, h))
    surf.fill((255, 255, 255))
    lo, hi = float(r.min()), float(r.max())
    marks = {k: float(v) for k, v in (refs or {}).items() if k in ("random", "expert") and isinstance(v, (int, float))}
    lo, hi = min([lo] + list(marks.values())), max([hi] + list(marks.values()))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(r, bins=bins, range=(lo, hi))
    pw, ph = w - left - right, h - top - bottom
    peak = max(int(counts.max()), 1)

    def x_of(v: float) -> int:
        return left + int((v - lo) / (hi - lo) * pw)

    for c, e0, e1 in zip(counts, edges[:-1], edges[1:]):
        bh = int(c / peak * ph)
        pg.draw.rect(surf, (89, 89, 217), (x_of(e0), top + ph - bh, max(x_of(e1) - x_of(e0) - 1, 1), bh))
    pg.draw.line(surf, (0, 0, 0), (left, top + ph), (left + pw, top + ph))
    pg.draw.line(surf, (0, 0, 0), (left, top), (left, top + ph))
    f, small = font(24), font(18)
    surf.blit(f.render(title, True, (0, 0, 0)), (left, 12))
    for v in np.linspace(lo, hi, 5):
        label = small.render(f"{v:.1f}", True, (0, 0, 0))
        surf.blit(label, (x_of(v) - label.get_width() // 2, top + ph + 6))
    for frac in (0.0, 0.5, 1.0):
        label = small.render(str(int(round(frac * peak))), True, (0, 0, 0))
        surf.blit(label, (left - 8 - label.get_width(), top + ph - int(frac * ph) - 6))
    surf.blit(small.render(f"episode return (n={r.size}, mean {r.mean():.2f})", True, (0, 0, 0)),
              (left + pw // 2 - 110, h - 22))
    colors = {"random": (200, 60, 60), "expert": (40, 150, 60)}
    for k, v in marks.items():
        pg.draw.line(surf, colors[k], (x_of(v), top), (x_of(v), top + ph), 2)
        surf.blit(small.render(k, True, colors[k], (255, 255, 255)), (x_of(v) + 3, top + 2 + (14 if k == "expert" else 0)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.png")
    try:
        pg.image.save(surf, str(tmp))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
