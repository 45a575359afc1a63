"""What the human is holding right now: keys, mouse, gamepad axes and buttons.

The play loop calls ``update(events)`` once per frame; human policies read
the state. A key pressed and released within one frame still counts as held
for that frame (``active``), so quick taps are never lost.
"""

from __future__ import annotations

from typing import Iterable

from .events import InputEvent


class InputState:
    def __init__(self):
        self.held: dict[str, None] = {}  # held keys, in the order they were pressed
        self.pressed: list[str] = []  # keys that went down this frame
        self.clicks: list[InputEvent] = []  # mouse buttons that went down this frame
        self.mouse_pos: tuple[int, int] | None = None
        self.mouse_buttons: set[int] = set()
        self.axes: dict[int, dict[int, float]] = {}  # device -> axis -> value
        self.buttons: dict[int, set[int]] = {}  # device -> held buttons
        self.events: list[InputEvent] = []  # everything seen this frame
        self.quit = False

    def update(self, events: Iterable[InputEvent]) -> None:
        """Start a new frame with ``events``."""
        self.events = list(events)
        self.pressed = []
        self.clicks = []
        for e in self.events:
            k = e.kind
            if k == "keydown" and e.key:
                self.held.pop(e.key, None)
                self.held[e.key] = None
                self.pressed.append(e.key)
            elif k == "keyup" and e.key:
                self.held.pop(e.key, None)
            elif k == "quit":
                self.quit = True
            elif k == "mousedown":
                self.mouse_pos = e.pos or self.mouse_pos
                self.mouse_buttons.add(e.button or 1)
                self.clicks.append(e)
            elif k == "mouseup":
                self.mouse_pos = e.pos or self.mouse_pos
                self.mouse_buttons.discard(e.button or 1)
            elif k == "mousemove":
                self.mouse_pos = e.pos
            elif k == "axis":
                if e.axis is None or e.axis < 0:  # device gone: release everything
                    self.axes.pop(e.device, None)
                    self.buttons.pop(e.device, None)
                else:
                    self.axes.setdefault(e.device, {})[e.axis] = float(e.value)
            elif k == "button" and e.button is not None:
                self.buttons.setdefault(e.device, set()).add(e.button)
            elif k == "buttonup" and e.button is not None:
                self.buttons.get(e.device, set()).discard(e.button)

    def active(self, key: str) -> bool:
        """Held now, or pressed at some point this frame."""
        return key in self.held or key in self.pressed

    def was_pressed(self, key: str) -> bool:
        return key in self.pressed

    def recent(self, keys: Iterable[str]) -> list[str]:
        """The active ones of ``keys``, most recently pressed first."""
        keys = set(keys)
        out: list[str] = []
        for k in [*reversed(self.pressed), *reversed(list(self.held))]:
            if k in keys and k not in out:
                out.append(k)
        return out

    def axis(self, axis: int, device: int | None = None) -> float:
        """Axis value of ``device`` (default: the first gamepad that reported)."""
        if device is None:
            device = next(iter(self.axes), None)
        return self.axes.get(device, {}).get(axis, 0.0) if device is not None else 0.0
