"""The scripted ally team for skirmish: focus fire, kiting and healing, batched.

It reads only each seat's observation and action mask (plus the static unit
table for hit-point scales, ranges and speeds), so it can fill any subset of
seats while humans or trained policies hold the others. Per unit, in order:

1. healers heal the most damaged ally they can reach, else follow the nearest
   visible fighting ally;
2. a unit whose weapon is cooling down steps out of reach of enemies that could
   hit it next step when it is faster than them (kiting melee units) or when it
   is the most wounded unit in sight below half health (the built-in AI then
   turns to healthier units); it keeps off the map edges while doing so;
3. focus fire: the team target is the visible enemy with the fewest hit points
   + shields left (ties: lower index; every seat computes the same one); attack
   it when in range, else the weakest enemy in range;
4. otherwise close in on the team target;
5. with no enemy in sight, lead the team toward the middle of the map.
"""

from __future__ import annotations

import numpy as np

from ...policies import ScriptedPolicy
from .actions import ATTACK0, STOP
from .maps import DIRECTIONS
from .observe import ObsLayout

WOUNDED = 0.5  # below this health fraction, the most wounded unit in sight steps back while cooling down
CENTRE_PULL = 1.0  # how strongly a unit stepping back is pulled toward the middle (cubic in its position)


class FocusFireScript:
    def __init__(self, task, kite: bool = True):
        self.task = task
        self.kite = kite
        lay = self.layout = ObsLayout(task)
        self.a, self.e = task.n_allies, task.n_enemies
        self.fe, self.fa = lay.enemy_features, lay.ally_features
        self.own0 = 4 + self.e * self.fe + (self.a - 1) * self.fa
        self.ally0 = 4 + self.e * self.fe
        u = task.units
        types = np.asarray(task.obs_types)
        dt = task.spec.step_seconds
        self.t_hp, self.t_shield = u.hp[types], u.shield[types]
        self.t_range, self.t_radius = u.range[types], u.radius[types]
        self.t_move = u.speed[types] * dt
        self.t_attacks = u.can_attack[types]
        self.t_healer = u.is_healer[types]
        self.t_heal_range = u.heal_range[types]
        self.t_sight = u.sight[types]
        self.heal0 = ATTACK0 + self.e
        self.has_heal = task.has_heal
        self.others = lay.others

    def _type(self, feats: np.ndarray, start: int) -> np.ndarray:
        """Type slot from one-hot features starting at ``start`` (slot 0 on one-type maps)."""
        nb = self.layout.n_type_bits
        if not nb:
            return np.zeros(feats.shape[:-1], dtype=np.intp)
        return feats[..., start : start + nb].argmax(axis=-1)

    def act(self, obs: np.ndarray, mask: np.ndarray, agents) -> np.ndarray:
        """Actions [B, k] for observations [B, k, D] and masks [B, k, n] of seats ``agents``."""
        b, k, _ = obs.shape
        sh = self.layout.shield
        en = obs[..., 4 : self.ally0].reshape(b, k, self.e, self.fe)
        vis = en[..., 0] > 0
        dist, rx, ry = en[..., 2], en[..., 3], en[..., 4]
        e_hp = en[..., 5]
        e_sh = en[..., 6] if sh else np.zeros_like(e_hp)
        e_type = self._type(en, 6 + sh)
        own = obs[..., self.own0 :]
        my_type = self._type(own, 4 + sh)
        my_sight = self.t_sight[my_type]
        cooling = own[..., 1 + sh] > 0
        moves = mask[..., 2:6].astype(bool)
        alive = mask[..., 1].astype(bool)

        act = np.full((b, k), STOP, dtype=np.int64)
        decided = ~alive
        act[~alive] = 0

        # 3. focus fire (computed first, applied after kiting): the team target is the
        # visible enemy with the fewest hit points + shields left (ties: lower index)
        legal_att = mask[..., ATTACK0 : ATTACK0 + self.e].astype(bool)
        pool = e_hp * self.t_hp[e_type] + e_sh * self.t_shield[e_type]
        focus = np.where(vis, pool, np.inf).argmin(axis=-1)[..., None]
        focus_ok = np.take_along_axis(legal_att, focus, -1)[..., 0]
        score = np.where(legal_att, pool, np.inf)
        can_attack = legal_att.any(axis=-1)
        attack = ATTACK0 + np.where(focus_ok, focus[..., 0], score.argmin(axis=-1))

        # 1. healers
        healer = self.t_healer[my_type] & alive
        if self.has_heal and healer.any():
            h_act, h_done = self._healer(obs, mask, agents, moves, my_sight)
            act = np.where(healer & h_done, h_act, act)
            decided = decided | (healer & h_done)

        # 2. kiting: step out of reach while the weapon cools down, when faster than the
        # threat, or when this unit is the most wounded one in sight (the enemy then
        # turns to healthier units)
        if self.kite:
            edge = dist * my_sight[..., None] - self.t_radius[my_type][..., None] - self.t_radius[e_type]
            reach = vis & (edge <= self.t_range[e_type] + self.t_move[e_type] + 0.25) & self.t_attacks[e_type]
            faster = self.t_move[e_type] < self.t_move[my_type][..., None]
            al = obs[..., self.ally0 : self.own0].reshape(b, k, self.a - 1, self.fa)
            my_hp = own[..., 0]
            others_hp = np.where(al[..., 0] > 0, al[..., 4], np.inf).min(axis=-1, initial=np.inf)
            wounded = (my_hp < others_hp - 0.05) & (my_hp < WOUNDED)
            threat = reach & (faster | wounded[..., None])
            run = ~decided & cooling & threat.any(axis=-1)
            if run.any():
                away = -np.stack([(rx * threat).sum(-1), (ry * threat).sum(-1)], axis=-1)
                away /= np.maximum(np.linalg.norm(away, axis=-1, keepdims=True), 1e-9)
                away -= CENTRE_PULL * own[..., 2 + sh : 4 + sh] ** 3  # keep off the map edges
                step, ok = self._toward(away, moves)
                act = np.where(run & ok, step, act)
                decided = decided | (run & ok)

        act = np.where(~decided & can_attack, attack, act)
        decided = decided | can_attack

        # 4. close in on the team target, 5. else lead the team (itself and the allies
        # it sees) toward the middle of the map
        half = self.layout.half
        me = own[..., 2 + sh : 4 + sh] * half  # world units, relative to the map centre
        al = obs[..., self.ally0 : self.own0].reshape(b, k, self.a - 1, self.fa)
        a_vis = al[..., 0:1] > 0
        team = me + (al[..., 2:4] * my_sight[..., None, None] * a_vis).sum(-2) / (1.0 + a_vis.sum(-2))
        seen = vis.any(axis=-1)
        target = np.concatenate([np.take_along_axis(rx, focus, -1), np.take_along_axis(ry, focus, -1)], -1)
        goal = np.where(seen[..., None], target, -team)
        far = seen | (np.abs(team).max(axis=-1) > 1.0)
        step, ok = self._toward(goal, moves)
        return np.where(~decided & far & ok, step, act)

    @staticmethod
    def _toward(goal: np.ndarray, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The legal move (2..5) best aligned with ``goal`` [B, k, 2]; ok where one helps."""
        dot = np.einsum("bkj,dj->bkd", goal, DIRECTIONS)
        dot = np.where(moves, dot, -np.inf)
        best = dot.argmax(axis=-1)
        ok = np.take_along_axis(dot, best[..., None], -1)[..., 0] > 0
        return 2 + best, ok

    def _healer(self, obs, mask, agents, moves, my_sight):
        b, k, _ = obs.shape
        sh = self.layout.shield
        al = obs[..., self.ally0 : self.own0].reshape(b, k, self.a - 1, self.fa)
        vis = al[..., 0] > 0
        hp = al[..., 4]
        a_type = self._type(al, 5 + sh)
        # heal slot of each "other" block: others[i] lists the ally indices
        idx = self.others[np.asarray(agents)]  # [k, A-1]
        legal = np.take_along_axis(mask[..., self.heal0 :], np.broadcast_to(idx[None], (b,) + idx.shape), -1)
        want = legal.astype(bool) & vis & (hp < 1.0)
        j = np.where(want, hp, np.inf).argmin(axis=-1)
        heal_act = self.heal0 + np.take_along_axis(np.broadcast_to(idx[None], (b,) + idx.shape), j[..., None], -1)[..., 0]
        healing = want.any(axis=-1)
        # follow the nearest visible fighting ally
        fighter = vis & self.t_attacks[a_type]
        d = al[..., 1]
        near = np.where(fighter, d, np.inf).argmin(axis=-1)[..., None]
        goal = np.concatenate([np.take_along_axis(al[..., 2], near, -1), np.take_along_axis(al[..., 3], near, -1)], -1)
        close = np.take_along_axis(d, near, -1)[..., 0] * my_sight < 2.0
        step, ok = self._toward(goal, moves)
        follow = fighter.any(axis=-1) & ~healing
        out = np.where(healing, heal_act, np.where(follow & ~close & ok, step, STOP))
        return out, healing | follow


class SkirmishScriptedPolicy(ScriptedPolicy):
    """``ScriptedPolicy`` for skirmish seats (made by ``ScriptedPolicy(env)`` on a skirmish env).

    ``epsilon`` replaces an action by a uniformly random legal one with that
    probability (medium-quality data); ``noise`` has no meaning for discrete
    actions and must be 0.
    """

    name = "scripted"

    def __init__(self, env, seed: int | None = None, noise: float = 0.0, epsilon: float = 0.0, kite: bool = True):
        self._env = getattr(env, "unwrapped", env)
        task = self._env.task
        if noise:
            raise ValueError("skirmish actions are discrete: use epsilon for random actions, not noise")
        self.script = FocusFireScript(task, kite=kite)
        # enemy seats (enemy_control="external") play the same script from their side
        self._enemy_script = FocusFireScript(task.mirrored(), kite=kite) if task.external_enemies else None
        self._n_allies = task.n_allies
        self.discrete = True
        self.noise = 0.0
        self.epsilon = float(epsilon)
        self.rng = np.random.default_rng(seed)
        self._index = {a: i for i, a in enumerate(task.agent_names)}
        self._index.update({e: i for i, e in enumerate(task.enemy_names)} if task.external_enemies else {})
        self._first = True

    def act_batch(self, obs, first=None, agents=None, script=None) -> np.ndarray:
        """Actions [B, k] for ``obs = {"observation": [B, k, D], "action_mask": [B, k, n]}``
        of ally seats ``agents`` (indices; default all)."""
        o = np.asarray(obs["observation"], dtype=np.float64)
        m = np.asarray(obs["action_mask"])
        idx = list(range(o.shape[1])) if agents is None else list(agents)
        act = (script or self.script).act(o, m, idx)
        if self.epsilon > 0:
            swap = self.rng.uniform(size=act.shape) < self.epsilon
            if swap.any():
                pick = (self.rng.uniform(size=m.shape) * m).argmax(axis=-1)
                act = np.where(swap, pick, act)
        return act

    def act(self, obs):
        out = {}
        enemies = [a for a in obs if a.startswith("enemy_")] if self._enemy_script is not None else []
        for agents, script in (([a for a in obs if a not in enemies], self.script), (enemies, self._enemy_script)):
            if not agents:
                continue
            idx = [self._index[a] for a in agents]
            batch = {
                "observation": np.stack([np.asarray(obs[a]["observation"]) for a in agents])[None],
                "action_mask": np.stack([np.asarray(obs[a]["action_mask"]) for a in agents])[None],
            }
            acts = self.act_batch(batch, np.array([self._first]), idx, script=script)[0]
            out.update({a: int(acts[j]) for j, a in enumerate(agents)})
        self._first = False
        return out
