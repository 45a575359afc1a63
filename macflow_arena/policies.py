"""The policy interface shared by scripted, random, human, SB3 and trained players.

A policy controls some seats of an env: ``act(obs_by_agent) -> action_by_agent``
for exactly the agents in ``obs_by_agent``; ``reset(seed)`` is called at the
start of every episode. Batched policies also offer ``act_batch(obs, first)``
on arrays ``[B, N, D]`` from a VectorEnv.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    name: str

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, obs: Mapping[str, Any]) -> dict[str, Any]: ...


def _unwrap(env):
    return getattr(env, "unwrapped", env)


class RandomPolicy:
    """Uniform random actions from each seat's action space (legal ones when masked)."""

    name = "random"

    def __init__(self, env, seed: int | None = None):
        self._env = _unwrap(env)
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def act(self, obs):
        out = {}
        for agent, o in obs.items():
            space = self._env.action_space(agent)
            mask = o.get("action_mask") if isinstance(o, dict) else None
            if mask is not None:
                legal = np.flatnonzero(mask)
                out[agent] = int(self.rng.choice(legal)) if legal.size else 0
            elif hasattr(space, "n"):
                out[agent] = int(self.rng.integers(space.n))
            else:
                out[agent] = self.rng.uniform(space.low, space.high).astype(space.dtype)
        return out

    def act_batch(self, obs: np.ndarray, first: np.ndarray, action_space, n_agents: int):
        if isinstance(obs, dict) and "action_mask" in obs:  # masked (skirmish VectorEnv): uniform legal
            mask = np.asarray(obs["action_mask"])
            return (self.rng.uniform(size=mask.shape) * mask).argmax(axis=-1)
        b = obs.shape[0]
        if hasattr(action_space, "n"):
            return self.rng.integers(action_space.n, size=(b, n_agents))
        return self.rng.uniform(-1.0, 1.0, size=(b, n_agents) + action_space.shape).astype(np.float32)


class ScriptedPolicy:
    """The scenario's scripted expert for any subset of seats.

    ``noise`` adds Gaussian noise (std, in action units) to continuous forces,
    ``epsilon`` replaces an action by a random one with that probability:
    the knobs that make medium-quality behaviour for datasets.
    """

    name = "scripted"

    def __new__(cls, env, *args, **kwargs):
        # Dispatch by env family: skirmish seats get the focus-fire script
        # (a ScriptedPolicy subclass); particle envs keep this class.
        if cls is ScriptedPolicy and getattr(getattr(_unwrap(env), "task", None), "family", None) == "skirmish":
            from .envs.skirmish.scripted import SkirmishScriptedPolicy

            return super().__new__(SkirmishScriptedPolicy)
        return super().__new__(cls)

    def __init__(self, env, seed: int | None = None, noise: float = 0.0, epsilon: float = 0.0):
        from .envs.particle.scripted import SCRIPTS

        self._env = _unwrap(env)
        task = getattr(self._env, "task", None)
        if task is None or task.name not in SCRIPTS:
            raise ValueError(f"no scripted policy for {getattr(self._env, 'env_id', env)!r}")
        self.script = SCRIPTS[task.name](task)
        self.discrete = task.spec.discrete_actions
        self.noise = float(noise)
        self.epsilon = float(epsilon)
        self.rng = np.random.default_rng(seed)
        self._index = {a: i for i, a in enumerate(task.agent_names)}
        self._first = True

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._first = True

    def act_batch(self, obs: np.ndarray, first: np.ndarray, agents=None) -> np.ndarray:
        """Actions for obs ``[B, k, D]`` of seats ``agents`` (default: all)."""
        idx = list(range(obs.shape[1])) if agents is None else list(agents)
        force = self.script.act(np.asarray(obs, dtype=np.float64), idx, np.asarray(first), self.rng)
        if self.noise > 0:
            force = np.clip(force + self.rng.normal(0.0, self.noise, size=force.shape), -1.0, 1.0)
        if self.epsilon > 0:
            swap = self.rng.uniform(size=force.shape[:2]) < self.epsilon
            force = np.where(swap[..., None], self.rng.uniform(-1, 1, size=force.shape), force)
        if self.discrete:
            from .envs.particle.scripted import to_discrete

            return to_discrete(force)
        return force.astype(np.float32)

    def act(self, obs):
        agents = list(obs)
        if not agents:
            return {}
        idx = [self._index[a] for a in agents]
        rows = [np.asarray(obs[a], dtype=np.float64) for a in agents]
        # Seats may see different obs dims (tag with an external prey): zero-pad like the VectorEnv.
        batch = np.zeros((1, len(rows), max(r.shape[0] for r in rows)))
        for j, r in enumerate(rows):
            batch[0, j, : r.shape[0]] = r
        acts = self.act_batch(batch, np.array([self._first]), idx)[0]
        self._first = False
        return {a: acts[j] for j, a in enumerate(agents)}
