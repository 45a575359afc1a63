"""Lazy pygame import: nothing here runs until something is drawn."""

from __future__ import annotations

import os

import numpy as np


_FONTS: dict[int, object] = {}


def pygame():
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame as pg

    if not pg.font.get_init():
        # Fonts made before a pygame.quit() are invalid: start a fresh cache.
        _FONTS.clear()
        pg.font.init()
    return pg


def font(size: int):
    pg = pygame()
    f = _FONTS.get(size)
    if f is None:
        f = _FONTS[size] = pg.font.Font(None, size)
    return f


def surface_to_array(surface) -> np.ndarray:
    """A pygame surface as a (H, W, 3) uint8 array (a copy)."""
    pg = pygame()
    w, h = surface.get_size()
    return np.frombuffer(pg.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(h, w, 3).copy()


# The HUD is a bar above the arena (never over it): hud_rows(width) text rows at a font that follows the width.
HUD_BG = (250, 250, 248)
HUD_RULE = (150, 150, 150)
HUD_SEP = "   |   "


def hud_font_size(width: int) -> int:
    """Font size of the HUD bar for a frame ``width`` pixels wide (16 at 240 px and below, 21 at 600)."""
    return int(min(22, max(16, round(width / 28))))


def hud_rows(width: int) -> int:
    """Text rows of the HUD bar: 3, or 4 on frames narrower than 400 px (compare tiles), where fewer lines share a row."""
    return 3 if width >= 400 else 4


def hud_bar_height(width: int) -> int:
    """Height in pixels of the HUD bar of a frame ``width`` pixels wide (constant: frames keep their size)."""
    return hud_rows(width) * font(hud_font_size(width)).get_linesize() + 6


def hud_bar_for(width: int, height: int) -> int:
    """The HUD bar's height for a ``width`` x ``height`` frame: 0 (no HUD) when the bar would take
    more than 30% of it (thumbnails such as 48 px test frames)."""
    bar = hud_bar_height(width)
    return bar if bar <= 0.3 * height else 0


def pack_hud_lines(lines, fits, rows: int = 3) -> list[str]:
    """HUD lines packed into at most ``rows`` rows (``fits(text)``: whether a row is narrow enough);
    lines are joined with separators while they fit, and the last row is cut with "..." when needed."""
    out: list[str] = []
    for line in (str(t) for t in lines if str(t)):
        if out and fits(out[-1] + HUD_SEP + line):
            out[-1] += HUD_SEP + line
        else:
            out.append(line)
    if len(out) > rows:
        out = out[: rows - 1] + [HUD_SEP.join(out[rows - 1:])]
    for i, row in enumerate(out):
        if not fits(row):
            while row and not fits(row + "..."):
                row = row[:-1]
            out[i] = row + "..."
    return out


def draw_hud(surface, lines, bar: int, color=(20, 20, 20)) -> None:
    """The HUD bar across the top of ``surface``, ``bar`` pixels high (``hud_bar_for``; 0: no HUD).
    Drawers put the arena below it, so the HUD never hides a unit, agent or landmark."""
    if bar <= 0:
        return
    pg = pygame()
    width = surface.get_width()
    f = font(hud_font_size(width))
    pg.draw.rect(surface, HUD_BG, pg.Rect(0, 0, width, bar))
    pg.draw.line(surface, HUD_RULE, (0, bar - 1), (width, bar - 1))
    y = 3
    for row in pack_hud_lines(list(lines), lambda t: f.size(t)[0] <= width - 12, hud_rows(width)):
        surface.blit(f.render(row, True, color), (6, y))
        y += f.get_linesize()


def outlined_text(text: str, size: int, color=(255, 255, 255), outline=(20, 20, 20)):
    """``text`` in ``color`` with a 1-pixel ``outline``: legible on any background and at small sizes."""
    pg = pygame()
    f = font(size)
    fg = f.render(text, True, color)
    bg = f.render(text, True, outline)
    w, h = fg.get_width() + 2, fg.get_height() + 2
    surf = pg.Surface((w, h), pg.SRCALPHA)
    for dx in (0, 1, 2):
        for dy in (0, 1, 2):
            if (dx, dy) != (1, 1):
                surf.blit(bg, (dx, dy))
    surf.blit(fg, (1, 1))
    return surf


def even(n: int) -> int:
    return n + (n % 2)
