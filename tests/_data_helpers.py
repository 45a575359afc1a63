"""A tiny deterministic ParallelEnv covering every space type the dataset format handles."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class ToyEnv(ParallelEnv):
    """3 agents; ``obs``: "box" | "hetero" (agents' shapes differ) | "dict" (with action_mask);
    ``act``: "discrete" | "box" | "multidiscrete". Agent ``a1`` dies at step ``die_at``
    (terminated), everyone else is truncated at ``max_cycles`` or terminated when
    ``a0`` draws the end (variable lengths with ``random_end``)."""

    metadata = {"name": "toy_v0", "render_modes": []}

    def __init__(self, obs="box", act="discrete", max_cycles=6, die_at=3, random_end=False, both_flags=False):
        self.possible_agents = ["a0", "a1", "a2"]
        self.agents = []
        self.obs_kind, self.act_kind = obs, act
        self.max_cycles, self.die_at, self.random_end, self.both_flags = max_cycles, die_at, random_end, both_flags
        self.n_actions = 5
        if obs == "box":
            self._obs = {a: spaces.Box(-1.0, 1.0, (3,), np.float32) for a in self.possible_agents}
        elif obs == "hetero":
            self._obs = {"a0": spaces.Box(-1.0, 1.0, (3,), np.float32), "a1": spaces.Box(-1.0, 1.0, (2, 2), np.float32),
                         "a2": spaces.Box(-1.0, 1.0, (1,), np.float32)}
        else:
            self._obs = {a: spaces.Dict({"observation": spaces.Box(-1.0, 1.0, (4,), np.float32),
                                         "action_mask": spaces.Box(0, 1, (self.n_actions,), np.int8)})
                         for a in self.possible_agents}
        if act == "discrete":
            self._act = {a: spaces.Discrete(self.n_actions) for a in self.possible_agents}
        elif act == "box":
            self._act = {a: spaces.Box(-2.0, 2.0, (2,), np.float32) for a in self.possible_agents}
        else:
            self._act = {a: spaces.MultiDiscrete([3, 4]) for a in self.possible_agents}
        self.state_space = spaces.Box(-np.inf, np.inf, (5,), np.float64)
        self.rng = np.random.default_rng()

    def observation_space(self, agent):
        return self._obs[agent]

    def action_space(self, agent):
        return self._act[agent]

    def _o(self, agent):
        sp = self._obs[agent]
        if self.obs_kind == "dict":
            mask = (self.rng.uniform(size=self.n_actions) < 0.6).astype(np.int8)
            mask[0] = 1
            return {"observation": self.rng.uniform(-1, 1, 4).astype(np.float32), "action_mask": mask}
        return self.rng.uniform(-1, 1, sp.shape).astype(np.float32)

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        self._state = self.rng.normal(size=5)
        return {a: self._o(a) for a in self.agents}, {a: {"score": 0.0} for a in self.agents}

    def state(self):
        return self._state.copy()

    def step(self, actions):
        self.t += 1
        acted = list(self.agents)
        tot = sum(float(np.sum(np.asarray(actions[a], dtype=np.float64))) for a in acted)
        rew = {a: float(self.rng.normal()) + 0.01 * tot for a in acted}
        end = self.random_end and self.rng.uniform() < 0.2
        term = {a: bool(end or (a == "a1" and self.t == self.die_at)) for a in acted}
        trunc = {a: self.t >= self.max_cycles and (self.both_flags or not term[a]) for a in acted}
        obs = {a: self._o(a) for a in acted}
        infos = {a: {"score": float(self.t), "other": "x"} for a in acted}
        self._state = self._state + self.rng.normal(size=5)
        self.agents = [a for a in acted if not (term[a] or trunc[a])]
        return obs, rew, term, trunc, infos


def random_policy(env, rng):
    """Actions for the live agents, legal under masks."""
    def act(obs):
        out = {}
        for a, o in obs.items():
            sp = env.action_space(a)
            if isinstance(o, dict):
                out[a] = int(rng.choice(np.flatnonzero(o["action_mask"])))
            elif isinstance(sp, spaces.Discrete):
                out[a] = int(rng.integers(sp.n))
            elif isinstance(sp, spaces.MultiDiscrete):
                out[a] = rng.integers(sp.nvec).astype(np.int64)
            else:
                out[a] = rng.uniform(sp.low, sp.high).astype(np.float32)
        return out
    return act


def play(env, episodes, seed=0, policy_seed=0, log=None):
    """Play ``episodes`` seeded episodes (seed + k); ``log`` collects what the env and policy produced."""
    rng = np.random.default_rng(policy_seed)
    act = random_policy(env, rng)
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        ep = {"obs": [obs], "actions": [], "rewards": [], "terms": [], "truncs": [], "state": [env.state()]}
        while env.agents:
            a = act({x: obs[x] for x in env.agents})
            obs, r, te, tr, _ = env.step(a)
            ep["obs"].append(obs)
            ep["actions"].append(a)
            ep["rewards"].append(r)
            ep["terms"].append(te)
            ep["truncs"].append(tr)
            ep["state"].append(env.state())
        if log is not None:
            log.append(ep)
