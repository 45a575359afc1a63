"""Per-ally observations, action masks and the global state (SMAC's layout), batched.

Observation of ally i (float32, every entry in [-1, 1]):

* move feasibility: 4 flags (north, south, east, west);
* per enemy k (E blocks of ``enemy_features``): visible, attackable, distance,
  relative x, relative y (divided by i's sight range), health fraction, shield
  fraction (only on maps with shields), unit type one-hot (only on maps with
  more than one type); all zero when enemy k is dead or out of sight;
* per other ally (A-1 blocks, ally index order without i): visible, distance,
  relative x, relative y, health, shield, type, as above;
* own: health fraction, shield fraction, weapon cooldown fraction, position x
  and y (scaled to [-1, 1] over the map), type one-hot.

A dead ally's observation keeps only its own position and type. The global
state holds, per ally: health, cooldown, x, y, shield, type; per enemy: health,
x, y, shield, type (zeros for dead units).
"""

from __future__ import annotations

import numpy as np

from .actions import ATTACK0
from .maps import DIRECTIONS


class ObsLayout:
    def __init__(self, task):
        self.n_allies, self.n_enemies = a, e = task.n_allies, task.n_enemies
        self.n_type_bits = task.n_type_bits
        self.shield = 1 if task.has_shields else 0
        common = 1 + self.shield + self.n_type_bits  # health, shield, type
        self.enemy_features = 2 + 3 + common
        self.ally_features = 1 + 3 + common
        self.own_features = common + 3
        self.own0 = 4 + e * self.enemy_features + (a - 1) * self.ally_features
        self.obs_dim = self.own0 + self.own_features
        self.state_ally = 4 + self.shield + self.n_type_bits
        self.state_enemy = 3 + self.shield + self.n_type_bits
        self.state_dim = a * self.state_ally + e * self.state_enemy
        self.others = np.array([[j for j in range(a) if j != i] for i in range(a)], dtype=np.intp).reshape(a, a - 1)
        self.type_slot = task.type_slot
        self.half = np.array([task.terrain.width / 2.0, task.terrain.height / 2.0])
        self.n_actions = task.actions.n
        self.has_heal = task.has_heal

    def entity_groups(self):
        """Tokens: own unit (move flags and own features); each enemy; each other ally."""
        from ..layout import blocks

        a, e = self.n_allies, self.n_enemies
        groups = [{"name": "self", "index": [list(range(4)) + list(range(self.own0, self.obs_dim))]},
                  {"name": "enemies", "index": blocks(4, e, self.enemy_features)}]
        if a > 1:
            groups.append({"name": "allies", "index": blocks(4 + e * self.enemy_features, a - 1, self.ally_features)})
        return groups

    def feature_names(self) -> list[str]:
        """One name per observation entry (for docs, debugging and tests)."""
        common = ["health"] + (["shield"] if self.shield else []) + [f"type_{k}" for k in range(self.n_type_bits)]
        names = [f"move_{d}" for d in ("north", "south", "east", "west")]
        for k in range(self.n_enemies):
            names += [f"enemy_{k}/{f}" for f in ["visible", "attackable", "distance", "rel_x", "rel_y"] + common]
        for k in range(self.n_allies - 1):
            names += [f"other_{k}/{f}" for f in ["visible", "distance", "rel_x", "rel_y"] + common]
        own = ["health"] + (["shield"] if self.shield else []) + ["cooldown", "x", "y"]
        own += [f"type_{k}" for k in range(self.n_type_bits)]
        return names + [f"own/{f}" for f in own]

    # -- pieces ---------------------------------------------------------------
    def _common(self, core, sl) -> list[np.ndarray]:
        """health, shield?, type bits? of units ``sl`` as [B, n] float arrays."""
        hp = core.hp[:, sl] / core.max_hp[:, sl]
        out = [hp]
        if self.shield:
            ms = core.max_shield[:, sl]
            out.append(np.divide(core.shield[:, sl], ms, out=np.zeros_like(ms), where=ms > 0))
        if self.n_type_bits:
            slot = self.type_slot[core.types[:, sl]]
            out += [(slot == k).astype(np.float64) for k in range(self.n_type_bits)]
        return out

    def observe(self, core) -> tuple[np.ndarray, np.ndarray]:
        """Observations [B, A, obs_dim] float32 and action masks [B, A, n_actions] int8."""
        a, e = self.n_allies, self.n_enemies
        b = core.num_battles
        fe, fa = self.enemy_features, self.ally_features
        obs = np.zeros((b, a, self.obs_dim), dtype=np.float32)
        pa = core.pos[:, :a]
        alive_a = core.alive[:, :a]
        sight = core.sight[:, :a, None]
        inv = 1.0 / sight
        ra = core.radius[:, :a, None]

        # moves
        dest = pa[:, :, None, :] + DIRECTIONS[None, None] * core.move_len[:, :a, None, None]
        moves = core.terrain.passable(dest) & alive_a[..., None]  # [B, A, 4]
        obs[..., :4] = moves

        # enemies: [B, A, E, fe] view into obs
        rel = core.pos[:, None, a:, :] - pa[:, :, None, :]  # [B, A, E, 2]
        dist = np.sqrt(np.einsum("baek,baek->bae", rel, rel))
        vis = alive_a[:, :, None] & core.alive[:, None, a:] & (dist <= sight)
        edge = dist - ra - core.radius[:, None, a:]
        att = vis & core.can_attack[:, :a, None] & (edge <= core.range[:, :a, None])
        ef = obs[..., 4 : 4 + e * fe].reshape(b, a, e, fe)
        w = vis * inv
        ef[..., 0] = vis
        ef[..., 1] = att
        ef[..., 2] = dist * w
        ef[..., 3] = rel[..., 0] * w
        ef[..., 4] = rel[..., 1] * w
        for k, c in enumerate(self._common(core, slice(a, None))):
            ef[..., 5 + k] = c[:, None, :] * vis

        # other allies: [B, A, A-1, fa] view into obs
        relaa = pa[:, None, :, :] - pa[:, :, None, :]  # [B, A, A, 2]
        daa = np.sqrt(np.einsum("bijk,bijk->bij", relaa, relaa))
        common = self._common(core, slice(0, a))
        if a > 1:
            o = self.others
            ai = np.arange(a)[:, None]
            v = (alive_a[:, :, None] & alive_a[:, None, :] & (daa <= sight))[:, ai, o]
            af = obs[..., 4 + e * fe : self.own0].reshape(b, a, a - 1, fa)
            w = v * inv
            af[..., 0] = v
            af[..., 1] = daa[:, ai, o] * w
            af[..., 2] = relaa[:, ai, o, 0] * w
            af[..., 3] = relaa[:, ai, o, 1] * w
            for k, c in enumerate(common):
                af[..., 4 + k] = c[:, o] * v

        # own: health, shield?, cooldown, x, y, type bits?
        own = obs[..., self.own0 :]
        sh = self.shield
        own[..., 0] = common[0]
        if sh:
            own[..., 1] = common[1]
        own[..., 1 + sh] = (core.cooldown[:, :a] / core.cooldown_steps[:, :a]) * alive_a
        own[..., 2 + sh : 4 + sh] = (pa - self.half) / self.half
        for k, c in enumerate(common[1 + sh :]):
            own[..., 4 + sh + k] = c

        # masks
        mask = np.zeros((b, a, self.n_actions), dtype=np.int8)
        mask[..., 0] = ~alive_a
        mask[..., 1] = alive_a
        mask[..., 2:6] = moves
        mask[..., ATTACK0 : ATTACK0 + e] = att
        if self.has_heal:
            edge_aa = daa - ra - core.radius[:, None, :a]
            heal = alive_a[:, :, None] & core.healer[:, :a, None] & alive_a[:, None, :]
            heal &= core.biological[:, None, :a] & ~np.eye(a, dtype=bool)[None]
            heal &= edge_aa <= core.heal_range[:, :a, None]
            mask[..., ATTACK0 + e :] = heal
        return obs, mask

    def state(self, core) -> np.ndarray:
        """Global state [B, state_dim] float32 in [-1, 1]."""
        a = self.n_allies
        b = core.num_battles
        xy = (core.pos - self.half) / self.half
        alive = core.alive
        cd = core.cooldown[:, :a] / core.cooldown_steps[:, :a]
        ac = self._common(core, slice(0, a))
        ec = self._common(core, slice(a, None))
        ally = np.stack([ac[0], cd, xy[:, :a, 0], xy[:, :a, 1]] + ac[1:], axis=-1) * alive[:, :a, None]
        enemy = np.stack([ec[0], xy[:, a:, 0], xy[:, a:, 1]] + ec[1:], axis=-1) * alive[:, a:, None]
        out = np.concatenate([ally.reshape(b, -1), enemy.reshape(b, -1)], axis=1)
        np.clip(out, -1.0, 1.0, out=out)
        return out.astype(np.float32)
