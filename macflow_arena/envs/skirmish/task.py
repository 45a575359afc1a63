"""A skirmish scenario: spec + unit table + terrain -> team sizes, layouts, battle draws.

The ally team holds the PettingZoo seats ``ally_0 .. ally_{A-1}``; the enemy
team (``enemy_0 ..``) is driven by the built-in AI. Units are indexed allies
first, then enemies, in every [B, U] array of the core.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from ...spec import SpecError
from .actions import ActionLayout
from .maps import Terrain, check_slots, draw_team, formation, procedural_positions
from .spec import BattleSpec, ProceduralSpec, SkirmishSpec
from .units import UnitTable


class SkirmishTask:
    family = "skirmish"

    def __init__(self, spec: SkirmishSpec, units: UnitTable, name: str = "skirmish", where: str = ""):
        self.spec = spec
        self.units = units
        self.name = name
        self.where = where or name
        self.terrain = Terrain(spec.width, spec.height, spec.layout)
        if spec.layout:
            cw, ch = spec.width / len(spec.layout[0]), spec.height / len(spec.layout)
            if not math.isclose(cw, ch, rel_tol=1e-6):
                raise SpecError(
                    f"{self.where}: layout cells must be square: width/columns = {cw:.3f} but "
                    f"height/rows = {ch:.3f}"
                )
        self.procedural = isinstance(spec, ProceduralSpec)
        if self.procedural:
            self.n_allies, self.n_enemies = spec.n_allies, spec.n_enemies
            pool = units.ids(spec.unit_types, f"{self.where}: unit_types: ")
            w = np.asarray(spec.unit_weights, dtype=np.float64)
            self._pool, self._p = pool[w > 0], w[w > 0] / w[w > 0].sum()
            if units.is_healer[self._pool].all():
                raise SpecError(f"{self.where}: unit_types with weight > 0 are all healers; a team must be able to attack")
            ally_types = enemy_types = sorted(set(self._pool.tolist()))
        else:
            assert isinstance(spec, BattleSpec)
            self.n_allies, self.n_enemies = len(spec.allies), len(spec.enemies)
            self._ally_ids = units.ids(spec.allies, f"{self.where}: allies: ")
            self._enemy_ids = units.ids(spec.enemies, f"{self.where}: enemies: ")
            for side, ids in (("allies", self._ally_ids), ("enemies", self._enemy_ids)):
                if units.is_healer[ids].all():
                    raise SpecError(f"{self.where}: {side} are all healers; a team must be able to attack")
            ally_types, enemy_types = sorted(set(self._ally_ids.tolist())), sorted(set(self._enemy_ids.tolist()))
            away = 1.0 if spec.ally_spawn[0] < spec.enemy_spawn[0] else -1.0
            self._ally_slots = formation(self.n_allies, spec.ally_spawn, spec.formation_spacing, -away)
            self._enemy_slots = formation(self.n_enemies, spec.enemy_spawn, spec.formation_spacing, away)
            self._slots = np.concatenate([self._ally_slots, self._enemy_slots])
            self._types = np.concatenate([self._ally_ids, self._enemy_ids])
            check_slots(self.terrain, self._slots, spec.spawn_jitter, self.where)
        self.n_units = self.n_allies + self.n_enemies
        # Types that can appear: the one-hot type features list them in table order.
        self.obs_types = sorted(set(ally_types) | set(enemy_types))
        self.type_slot = np.full(len(units.names), -1, dtype=np.intp)
        self.type_slot[self.obs_types] = np.arange(len(self.obs_types))
        self.n_type_bits = len(self.obs_types) if len(self.obs_types) > 1 else 0
        self.has_shields = bool((units.shield[self.obs_types] > 0).any())
        self.has_heal = bool(units.is_healer[ally_types].any())
        self.actions = ActionLayout(self.n_allies, self.n_enemies, self.has_heal)
        self.enemy_has_heal = bool(units.is_healer[enemy_types].any())
        self.enemy_actions = ActionLayout(self.n_enemies, self.n_allies, self.enemy_has_heal)
        self.agent_names = [f"ally_{i}" for i in range(self.n_allies)]
        self.enemy_names = [f"enemy_{i}" for i in range(self.n_enemies)]
        moves = units.speed[self.obs_types] * spec.step_seconds
        if moves.max() > self.terrain.min_cell:
            raise SpecError(
                f"{self.where}: a unit moves {moves.max():.2f} per step but wall cells are "
                f"{self.terrain.min_cell:.2f} wide; use larger cells or a shorter step_seconds"
            )
        self.cooldown_steps = units.cooldown_steps(spec.step_seconds)

    @property
    def n_controlled(self) -> int:
        return self.n_allies

    @property
    def external_enemies(self) -> bool:
        return self.spec.enemy_control == "external"

    def mirrored(self) -> SimpleNamespace:
        """What observation layouts read, seen from the enemy side (enemy seats)."""
        return SimpleNamespace(
            n_allies=self.n_enemies, n_enemies=self.n_allies, n_type_bits=self.n_type_bits,
            has_shields=self.has_shields, type_slot=self.type_slot, terrain=self.terrain,
            actions=self.enemy_actions, has_heal=self.enemy_has_heal, units=self.units,
            obs_types=self.obs_types, spec=self.spec,
        )

    def draw_battle(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Unit types [U] and start positions [U, 2] of a new battle."""
        s = self.spec
        if self.procedural:
            healer = self.units.is_healer
            allies = draw_team(rng, self._pool, self._p, self.n_allies, healer)
            enemies = draw_team(rng, self._pool, self._p, self.n_enemies, healer,
                                prefix=allies if s.mirror_teams else None)
            pos = procedural_positions(rng, self.terrain, s, self.n_allies, self.n_enemies)
            return np.concatenate([allies, enemies]), pos
        j = s.spawn_jitter
        return self._types, self._slots + rng.uniform(-j, j, size=self._slots.shape)

    def describe(self) -> str:
        if self.procedural:
            types = ", ".join(self.units.names[i] for i in self.obs_types)
            return f"{self.n_allies}v{self.n_enemies} drawn from {types}"
        return f"{', '.join(self.spec.allies)} vs {', '.join(self.spec.enemies)}"
