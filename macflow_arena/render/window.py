"""A pygame window that shows RGB frames at a fixed frame rate."""

from __future__ import annotations

import numpy as np

from .pg import pygame


class Window:
    def __init__(self, title: str, width: int, height: int, fps: int = 10):
        pg = pygame()
        pg.display.init()
        self._pg = pg
        self.screen = pg.display.set_mode((width, height))
        self.driver = pg.display.get_driver()  # "x11", "wayland", "windows", "cocoa" ... or "dummy"/"offscreen"
        pg.display.set_caption(f"macflow-arena: {title}")
        self.clock = pg.time.Clock()
        self.fps = fps
        self.closed = False

    def show(self, frame: np.ndarray, fps: int | None = None) -> None:
        if self.closed:
            return
        pg = self._pg
        surf = pg.image.frombuffer(np.ascontiguousarray(frame).tobytes(), (frame.shape[1], frame.shape[0]), "RGB")
        self.screen.blit(surf, (0, 0))
        pg.display.flip()
        pg.event.pump()
        self.clock.tick(fps or self.fps)

    def close(self) -> None:
        if not self.closed:
            self._pg.display.quit()
            self.closed = True
