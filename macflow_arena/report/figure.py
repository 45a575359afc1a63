"""Normalized score (y) against inference time per decision (x, log scale), one labelled point per
algorithm with its 95% CI as an error bar: the form of the MAC-Flow paper's Figure 1."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .groups import Group

PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def _fmt_ms(v: float) -> str:
    return f"{v:.3g}"


def score_vs_time_png(groups: list[Group], out: str | os.PathLike, size: tuple[int, int] = (760, 480)) -> Path:
    from ..render.chart import Chart, log_ticks, padded_range

    if not groups:
        raise ValueError("no runs to plot")
    ms = [g.ms_per_decision for g in groups]
    lows = [min(g.ci[0], g.normalized) for g in groups]
    highs = [max(g.ci[1], g.normalized) for g in groups]
    xlim = padded_range(min(ms), max(ms), frac=0.15, log=True)
    if xlim[1] / xlim[0] < 10:  # at least one decade, centred on the points
        mid = math.sqrt(xlim[0] * xlim[1])
        xlim = (mid / math.sqrt(10), mid * math.sqrt(10))
    ylim = padded_range(min(lows + [0.0]), max(highs + [100.0]))
    ch = Chart(size, margins=(80, 30, 50, 56), xlim=xlim, ylim=ylim, xlog=True)
    ch.xticks(log_ticks(*xlim), _fmt_ms, grid=True)
    step = 25 if ylim[1] - ylim[0] <= 250 else 100
    first = int(ylim[0] // step + 1) * step
    ch.yticks(range(first, int(ylim[1]) + 1, step), grid=True)
    for ref, name in ((0.0, "random"), (100.0, "expert")):
        ch.pg.draw.line(ch.surf, (150, 150, 150), (ch.left, ch.y(ref)), (ch.left + ch.pw, ch.y(ref)), 1)
        ch.text(name, (ch.left + ch.pw - 4, ch.y(ref) - 2), size=16, color=(120, 120, 120), anchor="bottomright")
    ch.frame()
    placed: list = []  # label rects, so that labels of nearby points do not overlap
    for i, g in enumerate(groups):
        color = PALETTE[i % len(PALETTE)]
        x, y = ch.x(g.ms_per_decision), ch.y(g.normalized)
        lo, hi = ch.y(g.ci[0]), ch.y(g.ci[1])
        ch.pg.draw.line(ch.surf, color, (x, lo), (x, hi), 2)
        ch.pg.draw.line(ch.surf, color, (x - 5, lo), (x + 5, lo), 2)
        ch.pg.draw.line(ch.surf, color, (x - 5, hi), (x + 5, hi), 2)
        ch.pg.draw.circle(ch.surf, color, (x, y), 6)
        right = x > ch.left + ch.pw * 0.7  # label on the left of points near the right edge
        ch.text(g.label, (x - 10 if right else x + 10, y), size=20, color=color,
                anchor="midright" if right else "midleft", background=(255, 255, 255), avoid=placed)
    ch.title("Normalized score against inference time per decision")
    ch.xlabel("time per decision, ms (batch 1, CPU, log scale)")
    ch.ylabel("normalized score (95% CI)")
    return ch.save(out)
