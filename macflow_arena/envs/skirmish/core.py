"""The batched skirmish core: B battles stepped together as numpy arrays [B, U, ...].

No pygame, torch or I/O. Each battle owns an ``np.random.Generator`` used only
at reset (team draw, start positions, the key of its enemy-AI noise), so battle
b of a batch seeded ``s + b`` replays exactly like a single env seeded ``s + b``.

Rules of one step, all units acting at once from the state at the start of the
step (so the order of units never matters):

1. Orders: allies from their actions, enemies from the built-in AI.
2. Attacks: a unit with an attack order fires when its target is alive and in
   range (edge to edge) and its weapon is ready (cooldown 0). Each hit deals
   ``max(damage + bonus_vs_armoured * target_armoured - target_armour, 0.5)``,
   ``attacks`` hits per shot; shields absorb damage before hit points.
3. Deaths: units at 0 hit points die (they still fired this step).
4. Heals: a healer restores ``heal_rate * step_seconds`` hit points (up to the
   maximum) to a living biological ally in heal range.
5. Cooldowns: a unit that fired waits ``round(cooldown / step_seconds)`` steps.
6. Moves: living units move ``speed * step_seconds``; a move that would leave the
   map or enter a wall is not made (the AI then tries the x, then the y part).
7. Shields regenerate ``shield_regen`` per second once ``shield_regen_delay``
   seconds passed since the unit last took damage.
8. The battle ends when a side has no unit that can attack left (won if only
   the enemy side is out), or is truncated at ``max_cycles`` steps.

Reward (SMAC, positive only): damage dealt to enemies (hit points and shields)
+ ``reward_death_value`` per enemy killed + ``reward_win`` for a win, scaled by
``reward_scale / (total enemy hp + shields + E * death value + win)`` so that
the best return is ``reward_scale`` (a little more is possible when enemy shields
regenerate or enemy healers heal, as in SMAC).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import enemy_ai
from .actions import ATTACK0, NORTH, WEST
from .maps import DIRECTIONS
from .task import SkirmishTask

# Per-unit stats gathered from the unit table at reset: attribute -> table array name.
STATS = {
    "max_hp": "hp", "max_shield": "shield", "armour": "armour", "damage": "damage", "attacks": "attacks",
    "bonus": "bonus", "range": "range", "sight": "sight", "radius": "radius", "armoured": "armoured",
    "biological": "biological", "heal_range": "heal_range", "can_attack": "can_attack", "healer": "is_healer",
    "regen_delay": "shield_regen_delay",
}


class SkirmishCore:
    def __init__(self, task: SkirmishTask, num_battles: int):
        if num_battles < 1:
            raise ValueError("num_battles must be >= 1")
        self.task = task
        self.spec = task.spec
        self.units = task.units
        self.terrain = task.terrain
        self.num_battles = b = int(num_battles)
        self.n_allies, self.n_enemies = a, e = task.n_allies, task.n_enemies
        self.n_units = u = a + e
        self.dt = float(task.spec.step_seconds)
        self.types = np.zeros((b, u), dtype=np.intp)
        self.pos = np.zeros((b, u, 2))
        self.hp = np.zeros((b, u))
        self.shield = np.zeros((b, u))
        self.cooldown = np.zeros((b, u), dtype=np.int64)  # steps until the weapon is ready
        self.since_hit = np.zeros((b, u))  # seconds since the unit last took damage
        self.alive = np.zeros((b, u), dtype=bool)
        self.t = np.zeros(b, dtype=np.int64)
        self.over = np.zeros(b, dtype=bool)  # the battle ended (win, loss or draw), not truncation
        self.won = np.zeros(b, dtype=bool)
        self.target = np.full((b, u), -1, dtype=np.intp)  # unit fired at in the last step (-1: none)
        self.heal_target = np.full((b, u), -1, dtype=np.intp)  # unit healed in the last step
        self.noise_key = np.zeros(b, dtype=np.uint64)  # enemy-AI hesitation noise, drawn at reset
        self.max_reward = np.ones(b)
        self.max_reward_enemy = np.ones(b)  # the same for the enemy side (external enemy control)
        for name, src in STATS.items():
            dtype = getattr(self.units, src).dtype
            setattr(self, name, np.zeros((b, u), dtype=dtype))
        self.move_len = np.zeros((b, u))  # world units per step
        self.heal_amount = np.zeros((b, u))  # hit points per step
        self.regen = np.zeros((b, u))  # shield points per step
        self.cooldown_steps = np.ones((b, u), dtype=np.int64)
        self.rngs = [np.random.default_rng() for _ in range(b)]
        self._bidx = np.arange(b)[:, None]
        self._uidx = np.arange(u)
        possible = np.asarray(task.obs_types)
        self._shields = bool((self.units.shield[possible] > 0).any())  # skip shield rules otherwise
        self._healers = bool(self.units.is_healer[possible].any())  # skip heal rules otherwise

    # -- episodes -----------------------------------------------------------
    def seed(self, battles: Sequence[int], seeds: Sequence[int | None]) -> None:
        for i, s in zip(battles, seeds):
            self.rngs[i] = np.random.default_rng(s)

    def reset(self, battles: Sequence[int] | np.ndarray | None = None) -> None:
        idx = np.arange(self.num_battles) if battles is None else np.asarray(battles, dtype=np.intp)
        if idx.size == 0:
            return
        types = np.empty((idx.size, self.n_units), dtype=np.intp)
        pos = np.empty((idx.size, self.n_units, 2))
        keys = np.empty(idx.size, dtype=np.uint64)
        for j, i in enumerate(idx):
            rng = self.rngs[i]
            types[j], pos[j] = self.task.draw_battle(rng)
            keys[j] = rng.integers(0, 2**63, dtype=np.uint64)
        self.load(idx, types, pos)
        self.noise_key[idx] = keys

    def load(self, idx: np.ndarray, types: np.ndarray, pos: np.ndarray) -> None:
        """Start battles ``idx`` from given unit types [k, U] and positions [k, U, 2]."""
        t = self.units
        self.types[idx] = types
        self.pos[idx] = pos
        for name, src in STATS.items():
            getattr(self, name)[idx] = getattr(t, src)[types]
        self.move_len[idx] = t.speed[types] * self.dt
        self.heal_amount[idx] = t.heal_rate[types] * self.dt
        self.regen[idx] = t.shield_regen[types] * self.dt
        self.cooldown_steps[idx] = self.task.cooldown_steps[types]
        self.hp[idx] = self.max_hp[idx]
        self.shield[idx] = self.max_shield[idx]
        self.cooldown[idx] = 0
        self.since_hit[idx] = 0.0
        self.alive[idx] = True
        self.t[idx] = 0
        self.over[idx] = False
        self.won[idx] = False
        self.target[idx] = -1
        self.heal_target[idx] = -1
        a, s = self.n_allies, self.spec
        enemy_pool = (self.max_hp[idx, a:] + self.max_shield[idx, a:]).sum(axis=1)
        self.max_reward[idx] = enemy_pool + s.reward_death_value * self.n_enemies + s.reward_win
        ally_pool = (self.max_hp[idx, :a] + self.max_shield[idx, :a]).sum(axis=1)
        self.max_reward_enemy[idx] = ally_pool + s.reward_death_value * a + s.reward_win

    # -- stepping -------------------------------------------------------------
    def _decode(self, act: np.ndarray, own: slice, opp0: int, friend0: int, n_opp: int):
        """Move deltas, attack and heal targets (unit indices) of one side's actions."""
        heal0 = ATTACK0 + n_opp
        is_move = (act >= NORTH) & (act <= WEST)
        delta = DIRECTIONS[np.clip(act - NORTH, 0, 3)] * (is_move * self.move_len[:, own])[..., None]
        target = np.where((act >= ATTACK0) & (act < heal0), act - ATTACK0 + opp0, -1)
        heal_to = np.where(act >= heal0, act - heal0 + friend0, -1)
        return delta, target, heal_to

    def step(self, ally_actions: np.ndarray, enemy_actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Apply validated, legal ally actions [B, A] (0 for dead allies) and, with
        external enemy control, enemy actions [B, E] (the same layout seen from the
        enemy side: attack ally k, heal enemy k); otherwise the built-in AI plays.

        Returns per battle: ``reward`` [B] (allies' SMAC reward), ``enemy_reward`` [B]
        (the same formula for the enemy side), ``died`` [B, U] (died this step),
        ``over`` [B], ``won`` [B], ``truncated`` [B] (time limit, battle not over),
        ``dealt`` [B] (damage dealt to enemies).
        """
        a, e, u = self.n_allies, self.n_enemies, self.n_units
        alive0 = self.alive.copy()

        # 1. orders ------------------------------------------------------------
        target = np.empty(self.alive.shape, dtype=np.intp)
        heal_to = np.empty(self.alive.shape, dtype=np.intp)
        delta = np.empty(self.pos.shape)
        delta[:, :a], target[:, :a], heal_to[:, :a] = self._decode(np.asarray(ally_actions), slice(0, a), a, 0, e)
        if enemy_actions is None:
            delta[:, a:], target[:, a:], heal_to[:, a:] = enemy_ai.orders(self)
        else:
            delta[:, a:], target[:, a:], heal_to[:, a:] = self._decode(np.asarray(enemy_actions), slice(a, u), 0, a, a)

        # 2. attacks -------------------------------------------------------------
        fi = (self._bidx * u + np.maximum(target, 0)).ravel()  # flat index of each target

        def at(arr):  # arr[b, target[b, i]] as [B, U]
            return arr.reshape(-1)[fi].reshape(arr.shape[:2])

        gap = self.pos.reshape(-1, 2)[fi].reshape(self.pos.shape) - self.pos
        edge = np.sqrt(np.einsum("buk,buk->bu", gap, gap)) - self.radius - at(self.radius)
        fire = (target >= 0) & alive0 & at(alive0) & (self.cooldown == 0) & self.can_attack
        fire &= edge <= self.range
        per_hit = self.damage + self.bonus * at(self.armoured) - at(self.armour)
        eff = np.maximum(per_hit, 0.5) * self.attacks
        recv = np.bincount(fi[fire.ravel()], weights=eff[fire], minlength=self.num_battles * u).reshape(-1, u)
        hit = recv > 0
        if self._shields:
            absorbed = np.minimum(self.shield, recv)
            self.shield -= absorbed
            hp_loss = recv - absorbed
        else:
            absorbed, hp_loss = 0.0, recv
        dealt_each = absorbed + np.minimum(self.hp, hp_loss)
        self.hp -= hp_loss

        # 3. deaths --------------------------------------------------------------
        died = alive0 & (self.hp <= 0)
        alive = alive0 & ~died
        self.alive = alive
        self.hp = np.where(alive, self.hp, 0.0)
        if self._shields:
            self.shield = np.where(alive, self.shield, 0.0)

        # 4. heals ---------------------------------------------------------------
        heals = np.zeros_like(alive)
        if self._healers:
            hfi = (self._bidx * u + np.maximum(heal_to, 0)).ravel()

            def hat(arr):
                return arr.reshape(-1)[hfi].reshape(arr.shape[:2])

            hgap = self.pos.reshape(-1, 2)[hfi].reshape(self.pos.shape) - self.pos
            hedge = np.sqrt(np.einsum("buk,buk->bu", hgap, hgap)) - self.radius - hat(self.radius)
            heals = (heal_to >= 0) & alive & self.healer & hat(alive) & hat(self.biological)
            heals &= (hedge <= self.heal_range) & (heal_to != self._uidx)
            if heals.any():
                got = np.bincount(hfi[heals.ravel()], weights=self.heal_amount[heals],
                                  minlength=self.num_battles * u).reshape(-1, u)
                self.hp = np.minimum(self.hp + got, self.max_hp)

        # 5. cooldowns -------------------------------------------------------------
        self.cooldown = np.maximum(np.where(fire, self.cooldown_steps, self.cooldown) - 1, 0)

        # 6. moves ---------------------------------------------------------------
        moving = alive & (delta != 0).any(axis=2)
        if moving.any():
            self._move(delta, moving)

        # 7. shields ---------------------------------------------------------------
        if self._shields:
            self.since_hit = np.where(hit, 0.0, self.since_hit + self.dt)
            regen = alive & (self.since_hit >= self.regen_delay) & (self.regen > 0)
            self.shield = np.where(regen, np.minimum(self.shield + self.regen, self.max_shield), self.shield)

        # 8. outcome and reward ------------------------------------------------------
        self.t += 1
        fighters = alive & self.can_attack
        allies_fight, enemies_fight = fighters[:, :a].any(axis=1), fighters[:, a:].any(axis=1)
        over = ~allies_fight | ~enemies_fight
        won = allies_fight & ~enemies_fight
        self.over, self.won = over, won
        truncated = ~over & (self.t >= self.spec.max_cycles)
        s = self.spec
        dealt = dealt_each[:, a:].sum(axis=1)
        kills = died[:, a:].sum(axis=1)
        raw = dealt + s.reward_death_value * kills + s.reward_win * won
        reward = raw * (s.reward_scale / self.max_reward)
        out = {"reward": reward, "died": died, "over": over, "won": won, "truncated": truncated, "dealt": dealt}
        if enemy_actions is not None:
            lost = enemies_fight & ~allies_fight
            raw_e = dealt_each[:, :a].sum(axis=1) + s.reward_death_value * died[:, :a].sum(axis=1) + s.reward_win * lost
            out["enemy_reward"] = raw_e * (s.reward_scale / self.max_reward_enemy)
        self.target = np.where(fire, target, -1)
        self.heal_target = np.where(heals, heal_to, -1)
        return out

    def _move(self, delta: np.ndarray, moving: np.ndarray) -> None:
        passable = self.terrain.passable
        new = self.pos + delta
        ok = moving & passable(new)
        stuck = moving & ~ok
        if stuck.any():  # slide along one axis
            dx = delta.copy()
            dx[..., 1] = 0.0
            try_x = stuck & (dx[..., 0] != 0) & passable(self.pos + dx)
            dy = delta.copy()
            dy[..., 0] = 0.0
            try_y = stuck & ~try_x & (dy[..., 1] != 0) & passable(self.pos + dy)
            new = np.where(try_x[..., None], self.pos + dx, new)
            new = np.where(try_y[..., None], self.pos + dy, new)
            ok |= try_x | try_y
        self.pos = np.where(ok[..., None], new, self.pos)

    # -- views ------------------------------------------------------------------
    def outcome(self) -> np.ndarray:
        """Per battle: 1 won, -1 lost, 0 draw or not over."""
        a = self.n_allies
        fighters = self.alive & self.can_attack
        lost = self.over & ~self.won & fighters[:, a:].any(axis=1)
        return self.won.astype(np.int64) - lost.astype(np.int64)

    def subset(self, idx: np.ndarray) -> "CoreView":
        """A read-only view of battles ``idx`` (copies of their arrays) for observing."""
        return CoreView(self, idx)

    def snapshot(self, i: int = 0) -> dict[str, np.ndarray]:
        """Copies of battle ``i``'s arrays for drawing (never stepped)."""
        keys = ("types", "pos", "hp", "shield", "alive", "target", "heal_target", "max_hp", "max_shield",
                "range", "sight", "radius", "heal_range", "healer", "cooldown", "cooldown_steps")
        out = {k: np.array(getattr(self, k)[i], copy=True) for k in keys}
        out["t"] = int(self.t[i])
        out["over"] = bool(self.over[i])
        out["won"] = bool(self.won[i])
        out["outcome"] = int(self.outcome()[i])
        return out


class MirrorView:
    """The battles seen from the enemy side: enemies first, then allies (for enemy seats)."""

    def __init__(self, core: SkirmishCore):
        a = core.n_allies
        for name in CoreView.FIELDS:
            arr = getattr(core, name)
            setattr(self, name, np.concatenate([arr[:, a:], arr[:, :a]], axis=1))
        self.terrain = core.terrain
        self.num_battles = core.num_battles


class CoreView:
    """The arrays of some battles of a core, with the attributes observations read."""

    FIELDS = ("types", "pos", "hp", "shield", "alive", "cooldown", "cooldown_steps", "max_hp", "max_shield",
              "range", "sight", "radius", "can_attack", "healer", "biological", "heal_range", "move_len")

    def __init__(self, core: SkirmishCore, idx: np.ndarray):
        for name in self.FIELDS:
            setattr(self, name, getattr(core, name)[idx])
        self.terrain = core.terrain
        self.num_battles = len(idx)
