"""Input events from an injectable source: real pygame events or a scripted replay.

The play loop polls one ``EventSource`` per frame and feeds the events to an
``InputState`` that the human policies read. Tests replay synthetic events
with ``ScriptedEventSource``, so no keyboard, mouse or window is needed.

Key names are pygame's lower-case names (``"a"``, ``"left"``, ``"escape"``,
``"space"``); mouse ``pos`` is in window pixels; gamepad axes are in [-1, 1]
with +y pointing down (pygame's convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence, runtime_checkable

KINDS = ("keydown", "keyup", "quit", "mousedown", "mouseup", "mousemove", "axis", "button", "buttonup")


@dataclass(frozen=True)
class InputEvent:
    """One input event.

    ``kind`` is one of ``KINDS``. Keys: ``key`` (name). Mouse: ``pos`` (x, y)
    and ``button`` (1 left, 2 middle, 3 right). Gamepad: ``device`` (joystick
    instance id), ``axis`` and ``value`` for axes, ``button`` for buttons.
    """

    kind: str
    key: str | None = None
    pos: tuple[int, int] | None = None
    button: int | None = None
    axis: int | None = None
    value: float = 0.0
    device: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown input event kind {self.kind!r}; known: {', '.join(KINDS)}")


def key_down(key: str) -> InputEvent:
    return InputEvent("keydown", key=key)


def key_up(key: str) -> InputEvent:
    return InputEvent("keyup", key=key)


def quit_event() -> InputEvent:
    return InputEvent("quit")


@runtime_checkable
class EventSource(Protocol):
    def poll(self) -> list[InputEvent]:
        """Events since the last call (the loop calls it once per frame)."""
        ...


class NoEvents:
    """A source that never reports anything (headless play without a script)."""

    def poll(self) -> list[InputEvent]:
        return []


class ScriptedEventSource:
    """Replays ``frames[i]`` on the i-th ``poll()``; nothing after the last frame."""

    def __init__(self, frames: Sequence[Iterable[InputEvent]]):
        self.frames = [list(f) for f in frames]
        self.index = 0

    @classmethod
    def at(cls, n_frames: int, events: dict[int, Iterable[InputEvent]]) -> "ScriptedEventSource":
        """``n_frames`` frames with ``events[i]`` on frame i (others empty)."""
        return cls([list(events.get(i, ())) for i in range(n_frames)])

    @property
    def exhausted(self) -> bool:
        return self.index >= len(self.frames)

    def poll(self) -> list[InputEvent]:
        if self.exhausted:
            return []
        out = self.frames[self.index]
        self.index += 1
        return out


class PygameEventSource:
    """Translates the pygame event queue (needs an open display, e.g. ``Window``).

    Gamepads are opened as they are reported (pygame sends a device-added
    event for each one already connected), so hot-plugging works.
    """

    def __init__(self):
        from ..render.pg import pygame

        self._pg = pygame()
        self._pg.joystick.init()
        self._joysticks: dict[int, object] = {}

    @property
    def gamepads(self) -> int:
        return len(self._joysticks)

    def poll(self) -> list[InputEvent]:
        pg = self._pg
        out: list[InputEvent] = []
        for e in pg.event.get():
            ev = self._translate(e)
            if ev is not None:
                out.append(ev)
        return out

    def _translate(self, e) -> InputEvent | None:
        pg = self._pg
        t = e.type
        if t == pg.QUIT:
            return InputEvent("quit")
        if t in (pg.KEYDOWN, pg.KEYUP):
            return InputEvent("keydown" if t == pg.KEYDOWN else "keyup", key=pg.key.name(e.key).lower())
        if t in (pg.MOUSEBUTTONDOWN, pg.MOUSEBUTTONUP):
            kind = "mousedown" if t == pg.MOUSEBUTTONDOWN else "mouseup"
            return InputEvent(kind, pos=tuple(e.pos), button=e.button)
        if t == pg.MOUSEMOTION:
            return InputEvent("mousemove", pos=tuple(e.pos))
        if t == pg.JOYDEVICEADDED:
            joy = pg.joystick.Joystick(e.device_index)
            self._joysticks[joy.get_instance_id()] = joy
            return None
        if t == pg.JOYDEVICEREMOVED:
            self._joysticks.pop(e.instance_id, None)
            # Release the stick so the seat does not keep drifting.
            return InputEvent("axis", axis=-1, value=0.0, device=e.instance_id)
        if t == pg.JOYAXISMOTION:
            return InputEvent("axis", axis=e.axis, value=float(e.value), device=e.instance_id)
        if t in (pg.JOYBUTTONDOWN, pg.JOYBUTTONUP):
            kind = "button" if t == pg.JOYBUTTONDOWN else "buttonup"
            return InputEvent(kind, button=e.button, device=e.instance_id)
        return None
