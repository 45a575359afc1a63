"""Skirmish unit types: ``envs/skirmish/units.toml`` -> a table of per-type arrays.

Every type is a strict record (unknown or missing keys are errors). The core
gathers these arrays per unit at reset, so stepping never looks at a dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ...resources import envs_dir
from ...spec import SpecError, build_spec, read_toml

SHAPES = ("circle", "square", "triangle", "diamond", "cross", "hexagon")


@dataclass(frozen=True)
class UnitType:
    hp: float = 0.0  # hit points
    shield: float = 0.0  # shield points, lost before hit points (0: no shield)
    shield_regen: float = 0.0  # shield points regained per second ...
    shield_regen_delay: float = 7.0  # ... once this many seconds passed without damage
    armour: float = 0.0  # subtracted from every hit taken (a hit deals at least 0.5)
    damage: float = 0.0  # damage per hit (0: the unit never attacks)
    attacks: int = 1  # hits per attack (zealots strike twice)
    bonus_vs_armoured: float = 0.0  # extra damage per hit against armoured targets
    cooldown: float = 1.0  # seconds between attacks (rounded to whole env steps, at least 1)
    range: float = 0.0  # attack range, edge to edge (centre distance minus both radii)
    sight: float = 9.0  # sight range, centre to centre: what the unit observes
    speed: float = 3.0  # world units per second
    radius: float = 0.5  # body radius (drawing, range and heal distances)
    armoured: bool = False  # takes bonus_vs_armoured
    biological: bool = True  # can be healed
    heal_rate: float = 0.0  # hit points restored per second to one ally (> 0: a healer)
    heal_range: float = 0.0  # heal range, edge to edge
    shape: str = "circle"  # drawing: circle, square, triangle, diamond, cross, hexagon
    color: tuple = (128, 128, 128)  # drawing: RGB fill

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{f.name} must be finite, got {v}")
        for name in ("hp", "sight", "speed", "radius", "cooldown"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("shield", "shield_regen", "shield_regen_delay", "armour", "damage", "bonus_vs_armoured",
                     "range", "heal_rate", "heal_range"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.attacks < 0:
            raise ValueError("attacks must be >= 0")
        if self.damage > 0 and self.attacks < 1:
            raise ValueError("a unit with damage > 0 needs attacks >= 1")
        if self.damage > 0 and self.heal_rate > 0:
            raise ValueError("a unit either attacks (damage > 0) or heals (heal_rate > 0), not both")
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        if len(self.color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in self.color):
            raise ValueError(f"color must be three integers in [0, 255], got {list(self.color)}")

    @property
    def is_healer(self) -> bool:
        return self.heal_rate > 0

    @property
    def can_attack(self) -> bool:
        return self.damage > 0


REQUIRED = tuple(f.name for f in fields(UnitType))


class UnitTable:
    """Unit types in file order, as arrays indexed by type id."""

    def __init__(self, types: Mapping[str, UnitType]):
        if not types:
            raise SpecError("the unit table is empty")
        self.names: list[str] = list(types)
        self.types: dict[str, UnitType] = dict(types)
        t = [types[n] for n in self.names]

        def arr(name, dtype=np.float64):
            return np.array([getattr(u, name) for u in t], dtype=dtype)

        self.hp = arr("hp")
        self.shield = arr("shield")
        self.shield_regen = arr("shield_regen")
        self.shield_regen_delay = arr("shield_regen_delay")
        self.armour = arr("armour")
        self.damage = arr("damage")
        self.attacks = arr("attacks")
        self.bonus = arr("bonus_vs_armoured")
        self.cooldown = arr("cooldown")
        self.range = arr("range")
        self.sight = arr("sight")
        self.speed = arr("speed")
        self.radius = arr("radius")
        self.armoured = arr("armoured", bool)
        self.biological = arr("biological", bool)
        self.heal_rate = arr("heal_rate")
        self.heal_range = arr("heal_range")
        self.can_attack = self.damage > 0
        self.is_healer = self.heal_rate > 0
        self.colors = np.array([u.color for u in t], dtype=np.uint8)
        self.shapes = [u.shape for u in t]

    def index(self, name: str, where: str = "") -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise SpecError(
                f"{where}unknown unit type {name!r}; known types: {', '.join(self.names)}"
            ) from None

    def ids(self, names: Sequence[str], where: str = "") -> np.ndarray:
        return np.array([self.index(n, where) for n in names], dtype=np.intp)

    def cooldown_steps(self, step_seconds: float) -> np.ndarray:
        """Weapon cooldown per type in whole env steps (nearest, at least 1)."""
        return np.maximum(1, np.rint(self.cooldown / step_seconds)).astype(np.int64)


def parse_units(raw: Mapping, where: str) -> UnitTable:
    types = {}
    for name, params in raw.items():
        if not isinstance(params, Mapping):
            raise SpecError(f"{where}: [{name}] must be a table of unit parameters")
        missing = [k for k in REQUIRED if k not in params]
        if missing:
            raise SpecError(f"{where}: unit {name!r} misses key(s) {', '.join(missing)}")
        params = dict(params)
        params["color"] = tuple(params["color"]) if isinstance(params["color"], list) else params["color"]
        types[name] = build_spec(UnitType, params, f"{where}: unit {name!r}")
    return UnitTable(types)


def units_path() -> Path:
    return envs_dir() / "skirmish" / "units.toml"


def load_units(path: Path | None = None) -> UnitTable:
    """The unit table from ``envs/skirmish/units.toml`` (found through the data resolver)."""
    path = Path(path) if path is not None else units_path()
    return parse_units(read_toml(path), str(path))
