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


def draw_hud(surface, lines, color=(20, 20, 20), background=(255, 255, 255, 180), size=20, pos=(8, 6)):
    """Text lines on a translucent panel in the top-left corner."""
    if not lines:
        return
    pg = pygame()
    f = font(size)
    rendered = [f.render(str(t), True, color) for t in lines]
    w = max(r.get_width() for r in rendered) + 10
    h = sum(r.get_height() for r in rendered) + 6
    panel = pg.Surface((w, h), pg.SRCALPHA)
    panel.fill(background)
    surface.blit(panel, (pos[0] - 5, pos[1] - 3))
    y = pos[1]
    for r in rendered:
        surface.blit(r, (pos[0], y))
        y += r.get_height()


def even(n: int) -> int:
    return n + (n % 2)
