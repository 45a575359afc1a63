"""Documented ranges of scenario (``envs/**/*.toml``) and unit (``units.toml``) fields.

Checked at load, after the types (``spec.build_spec``), so that ``agent_size =
inf`` or ``collision_penalty = inf`` (NaN in every step) and ``n_agents =
1000000`` (a ``MemoryError`` or a hang) are one clear error naming the file,
the key and the range. Every number must be finite (except the speed caps
``*max_speed``, where ``inf`` means "no cap"); fields named below have their
own range, other integers lie in [0, 100000] and other numbers within +-1e6.
Lists of numbers follow the same rule entry by entry; lists of names (units
per team) hold at most ``MAX_UNITS`` entries.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

MAX_UNITS = 64
INT_DEFAULT = (0, 100_000)
FLOAT_DEFAULT = (-1e6, 1e6)
INF_OK_SUFFIX = "max_speed"

# name: (low, high); counts of agents and entities are what memory and time scale with
RANGES: dict[str, tuple[float, float]] = {
    "max_cycles": (1, 100_000),
    "render_fps": (1, 240),
    "n_agents": (1, MAX_UNITS), "n_landmarks": (0, MAX_UNITS), "n_predators": (1, MAX_UNITS),
    "n_prey": (0, MAX_UNITS), "n_obstacles": (0, MAX_UNITS), "n_allies": (1, MAX_UNITS), "n_enemies": (1, MAX_UNITS),
    "difficulty": (1, 7), "attacks": (0, 100),
    "world_size": (1e-3, 1e4), "spawn_size": (0.0, 1e4), "width": (1.0, 1e4), "height": (1.0, 1e4),
    "dt": (1e-6, 10.0), "damping": (0.0, 1.0), "step_seconds": (1e-3, 60.0),
    "contact_force": (0.0, 1e6), "contact_margin": (1e-9, 10.0),
    "agent_size": (1e-4, 1e3), "landmark_size": (0.0, 1e3), "predator_size": (1e-4, 1e3), "prey_size": (1e-4, 1e3),
    "obstacle_size": (0.0, 1e3), "radius": (1e-3, 1e3),
    "hp": (1e-3, 1e6), "cooldown": (1e-3, 1e4), "sight": (1e-3, 1e4), "speed": (1e-3, 1e4),
}


class ScenarioRangeError(ValueError):
    """A scenario or unit value is not finite or outside its documented range."""


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_number(name: str, v: float, is_int: bool) -> None:
    if isinstance(v, float) and math.isnan(v):
        raise ScenarioRangeError(f"{name} must be a number, got NaN")
    if isinstance(v, float) and math.isinf(v) and name.endswith(INF_OK_SUFFIX) and v > 0:
        return
    if isinstance(v, float) and not math.isfinite(v):
        raise ScenarioRangeError(f"{name} must be finite, got {v}" +
                                 (" (only the *max_speed caps may be inf)" if v > 0 else ""))
    lo, hi = RANGES.get(name, INT_DEFAULT if is_int else FLOAT_DEFAULT)
    if not lo <= v <= hi:
        raise ScenarioRangeError(f"{name} = {v} is outside its range [{lo:g}, {hi:g}]")


def check_ranges(spec_cls: type, values: Mapping[str, Any]) -> None:
    """Raise ``ScenarioRangeError`` (the caller adds the file) for the first value out of range."""
    fields = {f.name: f for f in dataclasses.fields(spec_cls)}
    for name, v in values.items():
        default = fields[name].default if name in fields else None
        if _num(v):
            _check_number(name, v, isinstance(default, int) and not isinstance(default, bool))
        elif isinstance(v, (list, tuple)):
            if len(v) > MAX_UNITS * 4:
                raise ScenarioRangeError(f"{name} lists {len(v)} entries (at most {MAX_UNITS * 4})")
            if all(isinstance(x, str) for x in v) and len(v) > MAX_UNITS:
                raise ScenarioRangeError(f"{name} lists {len(v)} units (at most {MAX_UNITS} per team)")
            for x in v:
                if _num(x):
                    _check_number(f"{name} entry", x, isinstance(x, int))
