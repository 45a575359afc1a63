"""Scripted experts for the particle tasks, batched over worlds.

Each script reads only observations, so it can fill any subset of seats (a
human may hold the others). ``act(obs, agents, first, rng)`` takes obs
``[B, k, D]`` of the k seats with indices ``agents`` and returns unit-bounded
forces ``[B, k, 2]``; ``first[b]`` marks a new episode in world b.
"""

from __future__ import annotations

import itertools

import numpy as np

from .tag import flee_direction


def steer(offset: np.ndarray, vel: np.ndarray, gain: float = 3.0, damping: float = 0.9) -> np.ndarray:
    """PD steering toward ``offset`` (target - position), clipped to the unit disc."""
    u = gain * offset - damping * vel
    norm = np.sqrt(np.einsum("...k,...k->...", u, u))[..., None]
    return np.where(norm > 1.0, u / np.maximum(norm, 1e-12), u)


def _all_positions(obs, agents, n, lm_slice, others_slice):
    """Absolute positions of every agent [B, k, n, 2] and landmark [B, k, L, 2] as seen by each seat."""
    b, k, _ = obs.shape
    own = obs[..., 2:4]
    lm = own[:, :, None] + obs[..., lm_slice].reshape(b, k, -1, 2)
    rel = obs[..., others_slice].reshape(b, k, n - 1, 2)
    everyone = np.empty((b, k, n, 2))
    for j, i in enumerate(agents):
        everyone[:, j, i] = own[:, j]
        others = [o for o in range(n) if o != i]
        everyone[:, j, others] = own[:, j, None] + rel[:, j]
    return everyone, lm


class SpreadScript:
    """Optimal agent-to-landmark assignment (minimum total distance), then PD steering.

    Every seat computes the same assignment from its own observation, so the
    team agrees without communication.
    """

    def __init__(self, task):
        s = task.spec
        self.n, self.m = s.n_agents, s.n_landmarks
        lm_end = 4 + 2 * self.m
        self._lm = slice(4, lm_end)
        self._others = slice(lm_end, lm_end + 2 * (self.n - 1))
        if self.n <= self.m:
            self._perms = np.array(list(itertools.permutations(range(self.m), self.n)))  # agent -> landmark
        else:
            self._perms = None

    def _targets(self, everyone, lm):
        b, k = everyone.shape[:2]
        dist = np.sqrt(((everyone[:, :, :, None] - lm[:, :, None]) ** 2).sum(-1))  # [B,k,n,m]
        if self._perms is None:  # more agents than landmarks: nearest landmark
            return dist.argmin(axis=3)
        cost = dist[:, :, np.arange(self.n)[None, :], self._perms].sum(-1)  # [B,k,P]
        return self._perms[cost.argmin(axis=2)]  # [B,k,n]

    def act(self, obs, agents, first, rng):
        everyone, lm = _all_positions(obs, agents, self.n, self._lm, self._others)
        assign = self._targets(everyone, lm)
        idx = np.asarray(agents)
        b, k = obs.shape[:2]
        mine = assign[:, np.arange(k), idx]  # [B,k]
        target = np.take_along_axis(lm, mine[..., None, None].repeat(2, -1), axis=2)[:, :, 0]
        return steer(target - obs[..., 2:4], obs[..., 0:2])


class CoverScript:
    """Each episode the team draws one of the N! assignments uniformly, then steers.

    The random draw makes the data multimodal: every joint plan is equally good.
    """

    def __init__(self, task):
        self.n = task.spec.n_agents
        self._perms = np.array(list(itertools.permutations(range(self.n))))
        self._assign = None

    def act(self, obs, agents, first, rng):
        b, k = obs.shape[:2]
        if self._assign is None or self._assign.shape[0] != b:
            self._assign = self._perms[rng.integers(len(self._perms), size=b)]
            first = np.ones(b, dtype=bool)
        fresh = np.flatnonzero(first)
        if fresh.size:
            self._assign[fresh] = self._perms[rng.integers(len(self._perms), size=fresh.size)]
        mine = self._assign[:, np.asarray(agents)]  # [B,k]
        lm = obs[..., 4 : 4 + 2 * self.n].reshape(b, k, self.n, 2)
        offset = np.take_along_axis(lm, mine[..., None, None].repeat(2, -1), axis=2)[:, :, 0]
        return steer(offset, obs[..., 0:2])


class TagScript:
    """Predators encircle the prey and close in; prey flee.

    The team picks the prey nearest to its centroid and aims at where it will
    be (position + ``lead`` x velocity). Around that point sit ``P`` evenly
    spaced slots on a ring of radius ``min(ring_max, ring_frac x mean predator
    distance)``, the first one on the far side from the team, so the prey's
    escape route is covered; predators take the slots by the assignment of
    least total distance. The ring shrinks as the team closes in, ending in
    contact. Every predator computes the same plan from its own observation,
    so no communication is needed.

    On particle/tag (3 predators, 50 steps) this catches the prey in about
    4 of 5 episodes (the chase-the-nearest rule it replaced: about 2 of 3).
    """

    lead = 0.3  # seconds of prey velocity to lead by
    ring_max = 0.3  # largest ring radius
    ring_frac = 0.3  # ring radius as a fraction of the team's mean distance to the target
    gain, damping = 4.0, 0.6  # PD steering to the slot
    max_perm_team = 5  # up to this many predators: optimal slot assignment; above: by angle order

    def __init__(self, task):
        s = task.spec
        self.p, self.q, self.m = s.n_predators, s.n_prey, s.n_obstacles
        self.a = self.p + self.q
        self.obstacle_size = s.obstacle_size
        self.bound = s.world_size if s.bounded else None
        self._others0 = 4 + 2 * self.m
        self._slot_angles = 2 * np.pi * np.arange(self.p) / self.p
        self._perms = (
            np.array(list(itertools.permutations(range(self.p)))) if self.p <= self.max_perm_team else None
        )

    def _positions(self, obs_row, i):
        """Absolute agent positions [B, A, 2] from seat i's observations [B, D]."""
        b = obs_row.shape[0]
        own = obs_row[:, 2:4]
        rel = obs_row[:, self._others0 : self._others0 + 2 * (self.a - 1)].reshape(b, self.a - 1, 2)
        pos = np.empty((b, self.a, 2))
        others = [o for o in range(self.a) if o != i]
        pos[:, others] = own[:, None] + rel
        pos[:, i] = own
        obst = own[:, None] + obs_row[:, 4 : self._others0].reshape(b, self.m, 2)
        return pos, obst

    def _slot_of(self, pred, slots):
        """Slot index [B, P] of each predator: least total distance (or angle order for big teams)."""
        b = pred.shape[0]
        if self._perms is not None:
            cost = np.sqrt(((pred[:, :, None] - slots[:, None]) ** 2).sum(-1))  # [B, pred, slot]
            total = cost[:, np.arange(self.p)[None, :], self._perms].sum(-1)  # [B, P!]
            return self._perms[total.argmin(axis=1)]
        centre = slots.mean(axis=1, keepdims=True)
        ang_pred = np.arctan2(*(pred - centre).transpose(2, 0, 1)[::-1])
        ang_slot = np.arctan2(*(slots - centre).transpose(2, 0, 1)[::-1])
        order_pred = np.argsort(ang_pred, axis=1, kind="stable")
        order_slot = np.argsort(ang_slot, axis=1, kind="stable")
        out = np.empty((b, self.p), dtype=np.intp)
        np.put_along_axis(out, order_pred, order_slot, axis=1)
        return out

    def _predator(self, obs_row, pos, i):
        b = obs_row.shape[0]
        rows = np.arange(b)
        pred, prey = pos[:, : self.p], pos[:, self.p :]
        prey_vel = obs_row[:, self._others0 + 2 * (self.a - 1) :][:, : 2 * self.q].reshape(b, self.q, 2)
        centroid = pred.mean(axis=1)
        q = np.sqrt(((prey - centroid[:, None]) ** 2).sum(-1)).argmin(axis=1)
        target = prey[rows, q] + self.lead * prey_vel[rows, q]
        away = target - centroid
        phi = np.arctan2(away[:, 1], away[:, 0])  # slot 0 on the far side of the target
        ang = phi[:, None] + self._slot_angles[None, :]
        dist = np.sqrt(((pred - target[:, None]) ** 2).sum(-1))
        radius = np.minimum(self.ring_max, self.ring_frac * dist.mean(axis=1))
        slots = target[:, None] + radius[:, None, None] * np.stack([np.cos(ang), np.sin(ang)], axis=-1)
        mine = slots[rows, self._slot_of(pred, slots)[:, i]]
        return steer(mine - pos[:, i], obs_row[:, 0:2], gain=self.gain, damping=self.damping)

    def act(self, obs, agents, first, rng):
        b, k, _ = obs.shape
        out = np.zeros((b, k, 2))
        for j, i in enumerate(agents):
            pos, obst = self._positions(obs[:, j], i)
            if i < self.p:
                out[:, j] = self._predator(obs[:, j], pos, i)
            else:
                me = pos[:, i : i + 1]
                out[:, j] = flee_direction(me, pos[:, : self.p], obst, self.obstacle_size, self.bound)[:, 0]
        return out


SCRIPTS = {"spread": SpreadScript, "cover": CoverScript, "tag": TagScript}


def to_discrete(force: np.ndarray, deadzone: float = 0.15) -> np.ndarray:
    """Nearest MPE-style discrete move (0 no-op, 1 left, 2 right, 3 down, 4 up)."""
    x, y = force[..., 0], force[..., 1]
    horiz = np.where(x < 0, 1, 2)
    vert = np.where(y < 0, 3, 4)
    move = np.where(np.abs(x) >= np.abs(y), horiz, vert)
    small = np.maximum(np.abs(x), np.abs(y)) < deadzone
    return np.where(small, 0, move).astype(np.int64)
