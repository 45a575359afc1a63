"""Return histogram of a dataset as a PNG, drawn with pygame (no matplotlib needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

REF_COLORS = {"random": (200, 60, 60), "expert": (40, 150, 60)}


def return_histogram_png(returns: np.ndarray, out: str | os.PathLike, title: str, bins: int = 30,
                         refs: dict | None = None, size: tuple[int, int] = (720, 420)) -> Path:
    """Draw a histogram of ``returns`` (with reference-return markers) and save it atomically as PNG."""
    from ..render.chart import Chart

    if Path(out).suffix.lower() != ".png":
        raise ValueError(f"--plot needs a .png file name, got {str(out)!r}")
    r = np.asarray(returns, dtype=np.float64)
    if not r.size:
        raise ValueError("no episodes to plot")
    marks = {k: float(v) for k, v in (refs or {}).items() if k in REF_COLORS and isinstance(v, (int, float))}
    lo, hi = min([float(r.min())] + list(marks.values())), max([float(r.max())] + list(marks.values()))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(r, bins=bins, range=(lo, hi))
    peak = max(int(counts.max()), 1)
    ch = Chart(size, xlim=(lo, hi), ylim=(0, peak))
    for c, e0, e1 in zip(counts, edges[:-1], edges[1:]):
        ch.pg.draw.rect(ch.surf, (89, 89, 217), (ch.x(e0), ch.y(c), max(ch.x(e1) - ch.x(e0) - 1, 1), ch.y(0) - ch.y(c)))
    ch.frame()
    ch.title(title)
    ch.xticks(np.linspace(lo, hi, 5), lambda v: f"{v:.1f}")
    ch.yticks(sorted({0, int(round(peak / 2)), peak}))
    ch.xlabel(f"episode return (n={r.size}, mean {r.mean():.2f})")
    for k, v in marks.items():
        ch.pg.draw.line(ch.surf, REF_COLORS[k], (ch.x(v), ch.top), (ch.x(v), ch.y(0)), 2)
        ch.text(k, (ch.x(v) + 3, ch.top + 2 + (14 if k == "expert" else 0)), color=REF_COLORS[k],
                background=(255, 255, 255))
    return ch.save(out)
