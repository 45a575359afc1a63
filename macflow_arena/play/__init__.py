"""Live play: humans and policies mixed per seat, in a pygame window or headless.

Importing this package does not import pygame; the window and the pygame
event source are opened only by ``play(..., headless=False)``.
"""

from __future__ import annotations

from .events import EventSource, InputEvent, NoEvents, PygameEventSource, ScriptedEventSource, key_down, key_up
from .input_state import InputState
from .keyboard import GamepadPolicy, KeyboardPolicy
from .kinds import SeatContext, SeatKind, known_kinds, register_kind
from .loop import PlayResult, play
from .seats import SeatError, Seating, build_seating, parse_seats, seat_overrides
from .session import Session

__all__ = [
    "EventSource",
    "GamepadPolicy",
    "InputEvent",
    "InputState",
    "KeyboardPolicy",
    "NoEvents",
    "PlayResult",
    "PygameEventSource",
    "ScriptedEventSource",
    "SeatContext",
    "SeatError",
    "SeatKind",
    "Seating",
    "Session",
    "build_seating",
    "key_down",
    "key_up",
    "known_kinds",
    "parse_seats",
    "play",
    "register_kind",
    "seat_overrides",
]
