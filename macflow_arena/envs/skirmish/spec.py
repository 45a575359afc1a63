"""Skirmish scenario keys: one frozen dataclass per task, a comment per field.

``task = "battle"`` maps have fixed team compositions (SMAC's maps);
``task = "procedural"`` maps draw both teams from unit-type weights and place
them at random (SMACv2's idea). Unknown keys are errors (see ``spec.build_spec``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AI_KINDS = ("nearest", "focus", "idle")
ILLEGAL_ACTION_MODES = ("raise", "noop")
START_MODES = ("reflect", "surrounded")
DIFFICULTIES = range(1, 8)
# Probability that an enemy unit hesitates (does nothing) in a step, per difficulty 1..7.
HESITATION = (0.6, 0.45, 0.3, 0.2, 0.1, 0.05, 0.0)


def _finite_positive(spec, *names: str) -> None:
    for name in names:
        v = getattr(spec, name)
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a positive finite number, got {v}")


def _point(name: str, value) -> None:
    if len(value) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in value):
        raise ValueError(f"{name} must be two finite numbers [x, y], got {list(value)}")


@dataclass(frozen=True)
class SkirmishSpec:
    max_cycles: int = 60  # episode limit in steps (SMAC's episode_limit): truncation, never termination
    step_seconds: float = 0.375  # game seconds per env step (SMAC: 8 game loops at "faster" speed)
    width: float = 32.0  # map width (world units; x grows east)
    height: float = 32.0  # map height (world units; y grows north)
    layout: tuple = ()  # optional ASCII rows, north first: '#' wall/cliff, '.' floor; cells split width x height evenly
    ally_spawn: tuple = (9.0, 16.0)  # centre of the ally start formation (fixed maps)
    enemy_spawn: tuple = (23.0, 16.0)  # centre of the enemy start formation (fixed maps)
    formation_spacing: float = 1.25  # distance between neighbouring start slots (a column, then more columns)
    spawn_jitter: float = 0.5  # uniform random offset (+-) of each start position, drawn at reset
    difficulty: int = 7  # built-in enemy AI level 1 (very easy) .. 7 (very hard): hesitation 60% .. 0% per step
    enemy_ai: str = "nearest"  # enemy targeting: "nearest" (closest unit in range), "focus" (weakest in range), "idle" (never acts: tests, practice)
    enemy_control: str = "ai"  # "ai": the built-in AI; "external": enemy_0.. are seats too (ParallelEnv; play --against)
    illegal_action: str = "noop"  # a masked action: "noop" (replace by stop, count in info["illegal_actions"]) or "raise" an error
    reward_death_value: float = 10.0  # shaped reward per enemy killed (SMAC)
    reward_win: float = 200.0  # shaped reward for winning (SMAC)
    reward_scale: float = 20.0  # rewards are scaled so that the best episode return is this (SMAC: 20)
    units_file: str = "units.toml"  # unit table, in the same folder as the map
    render_fps: int = 8  # window and video frame rate

    def validate(self) -> None:
        if self.max_cycles < 1:
            raise ValueError("max_cycles must be >= 1")
        _finite_positive(self, "step_seconds", "width", "height", "formation_spacing")
        if not (self.spawn_jitter >= 0 and math.isfinite(self.spawn_jitter)):
            raise ValueError("spawn_jitter must be >= 0")
        if self.difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be an integer in 1..7, got {self.difficulty}")
        if self.enemy_ai not in AI_KINDS:
            raise ValueError(f"enemy_ai must be one of {', '.join(AI_KINDS)}, got {self.enemy_ai!r}")
        if self.enemy_control not in ("ai", "external"):
            raise ValueError(f"enemy_control must be 'ai' or 'external', got {self.enemy_control!r}")
        if self.illegal_action not in ILLEGAL_ACTION_MODES:
            raise ValueError(
                f"illegal_action must be one of {', '.join(ILLEGAL_ACTION_MODES)}, got {self.illegal_action!r}"
            )
        for name in ("reward_death_value", "reward_win"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be >= 0")
        _finite_positive(self, "reward_scale")
        _point("ally_spawn", self.ally_spawn)
        _point("enemy_spawn", self.enemy_spawn)
        if self.layout:
            rows = list(self.layout)
            if not all(isinstance(r, str) for r in rows):
                raise ValueError("layout must be a list of strings")
            if len({len(r) for r in rows}) != 1 or not rows[0]:
                raise ValueError("layout rows must all have the same non-zero length")
            bad = sorted({c for r in rows for c in r} - {"#", "."})
            if bad:
                raise ValueError(f"layout may hold only '#' (wall) and '.' (floor), found {bad}")
        if self.render_fps < 1:
            raise ValueError("render_fps must be >= 1")

    @property
    def hesitation(self) -> float:
        return HESITATION[self.difficulty - 1]


@dataclass(frozen=True)
class BattleSpec(SkirmishSpec):
    allies: tuple = ("marine", "marine", "marine")  # ally unit types, one entry per unit (ally_0, ally_1, ...)
    enemies: tuple = ("marine", "marine", "marine")  # enemy unit types, one entry per unit

    def validate(self) -> None:
        super().validate()
        for name in ("allies", "enemies"):
            units = getattr(self, name)
            if not units:
                raise ValueError(f"{name} must list at least one unit type")
            if not all(isinstance(u, str) for u in units):
                raise ValueError(f"{name} must be a list of unit type names")


@dataclass(frozen=True)
class ProceduralSpec(SkirmishSpec):
    n_allies: int = 5  # units per ally team
    n_enemies: int = 5  # units per enemy team
    unit_types: tuple = ("marine", "marauder", "medivac")  # types a team is drawn from ...
    unit_weights: tuple = (0.45, 0.45, 0.1)  # ... with these probabilities (normalised); never healers only
    mirror_teams: bool = True  # enemies get the allies' types (SMACv2); extra enemies are drawn
    start: str = "reflect"  # "reflect": teams on opposite sides (random side); "surrounded": allies in the middle
    start_margin: float = 3.0  # keep start positions this far from the map border

    def validate(self) -> None:
        super().validate()
        if self.n_allies < 1 or self.n_enemies < 1:
            raise ValueError("n_allies and n_enemies must be >= 1")
        if not self.unit_types or len(self.unit_types) != len(self.unit_weights):
            raise ValueError("unit_types and unit_weights must be non-empty lists of the same length")
        w = self.unit_weights
        if not all(isinstance(x, (int, float)) and math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
            raise ValueError(f"unit_weights must be finite, >= 0 and not all 0, got {list(w)}")
        if self.start not in START_MODES:
            raise ValueError(f"start must be one of {', '.join(START_MODES)}, got {self.start!r}")
        if not (self.start_margin >= 0 and 2 * self.start_margin < min(self.width, self.height)):
            raise ValueError("start_margin must be >= 0 and leave room inside the map")
