"""Batched VectorEnv over the skirmish core: B battles, arrays [B, A, ...], same-step auto-reset."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from gymnasium import spaces

from ..seeding import world_seeds
from ..validate import ActionError, IllegalActionError, check_batch, illegal_action_message, masked_violations
from .core import SkirmishCore
from .observe import ObsLayout
from .task import SkirmishTask

STOP = 1


class SkirmishVectorEnv:
    """B battles of one map stepped together.

    ``reset(seed=s)`` seeds battle b with ``s + b`` (or pass one seed per battle), so
    battle b replays exactly like ``make(id).reset(seed=s + b)``.

    Observations are dicts of arrays, like the ParallelEnv's per-agent dicts:
    ``{"observation": float32 [B, A, obs_dim], "action_mask": int8 [B, A, n_actions]}``.
    Actions are integers [B, A]; a dead ally must take 0 (no-op, its only legal action).

    ``step`` returns ``obs, rewards [B, A], terminated [B, A], truncated [B, A], info``.
    ``terminated[b, i]`` is set on the step ally i dies or its battle ends,
    ``truncated`` at ``max_cycles``; both only for allies alive at the start of the
    step (``info["active"]``); rewards are the team reward for active allies, 0 for
    the others. Battles that end are reset in the same call: ``obs`` holds their new
    first observation, ``info["final_obs"]`` the last one of the finished battle and
    ``info["done"]`` marks them. ``info["metrics"]`` holds ``battle_won``,
    ``dead_allies`` and ``dead_enemies`` per battle (before the auto-reset), and
    ``info["illegal_actions"]`` [B, A] the masked actions replaced by stop this
    episode (``illegal_action = "noop"``).
    """

    def __init__(self, task: SkirmishTask, entry, num_envs: int):
        if task.external_enemies:
            raise ValueError(
                f"{entry.id}: enemy_control='external' is for the ParallelEnv (make(...), play --against); "
                f"the VectorEnv's enemies are the built-in AI"
            )
        self.task = task
        self.scenario = task.spec
        self.env_id = entry.id
        self.family = "skirmish"
        self.num_envs = int(num_envs)
        self.core = SkirmishCore(task, self.num_envs)
        self.layout = ObsLayout(task)
        self.agents = list(task.agent_names)
        self.n_agents = len(self.agents)
        self.obs_dim = self.layout.obs_dim
        self.obs_dims = [self.obs_dim] * self.n_agents
        self.n_actions = task.actions.n
        self.discrete = True
        self.action_space = spaces.Discrete(self.n_actions)
        self.action_shape = (self.num_envs, self.n_agents)
        self.state_dim = self.layout.state_dim
        self.max_cycles = task.spec.max_cycles
        self._mask = np.zeros((self.num_envs, self.n_agents, self.n_actions), dtype=np.int8)
        self._illegal = np.zeros((self.num_envs, self.n_agents), dtype=np.int64)
        self.episode_return = np.zeros(self.num_envs)
        self._started = False

    def reset(self, seed: int | Sequence[int] | None = None):
        b = self.num_envs
        if seed is not None:
            self.core.seed(range(b), world_seeds(seed, b))
        self.core.reset()
        self._illegal[:] = 0
        self.episode_return[:] = 0.0
        self._started = True
        return self._observe(), {"metrics": self._metrics(), "illegal_actions": self._illegal.copy()}

    def _observe(self) -> dict[str, np.ndarray]:
        o, m = self.layout.observe(self.core)
        self._mask = m.copy()
        return {"observation": o, "action_mask": m}

    def _metrics(self) -> dict[str, np.ndarray]:
        a = self.n_agents
        alive = self.core.alive
        return {
            "battle_won": self.core.won.copy(),
            "dead_allies": (~alive[:, :a]).sum(axis=1),
            "dead_enemies": (~alive[:, a:]).sum(axis=1),
        }

    def step(self, actions: np.ndarray):
        if not self._started:
            raise RuntimeError(f"{self.env_id}: step() called before reset(); call reset() first")
        act = np.array(check_batch(actions, self.action_shape, True, self.n_actions), dtype=np.int64)
        bad = masked_violations(act, self._mask)
        if bad.any():
            if self.scenario.illegal_action == "raise":
                b, i = (int(x) for x in np.argwhere(bad)[0])
                msg = illegal_action_message(self.agents[i], act[b, i], self._mask[b, i], self.task.actions.name)
                raise IllegalActionError(f"battle {b}: {msg} ({int(bad.sum())} masked action(s) in this batch)")
            dead = self._mask[..., 0].astype(bool)
            if (bad & dead).any():
                b, i = (int(x) for x in np.argwhere(bad & dead)[0])
                raise ActionError(f"battle {b}: {self.agents[i]} is dead; its only legal action is 0 (no-op)")
            self._illegal += bad
            act = np.where(bad, STOP, act)
        active = self.core.alive[:, : self.n_agents].copy()
        res = self.core.step(act)
        metrics = self._metrics()
        obs = self._observe()
        over, truncated = res["over"], res["truncated"]
        terminated = active & (res["died"][:, : self.n_agents] | over[:, None])
        trunc = active & truncated[:, None] & ~terminated
        reward = res["reward"]
        rewards = np.where(active, reward[:, None], 0.0).astype(np.float32)
        self.episode_return += reward
        done = over | truncated
        info = {
            "metrics": metrics,
            "done": done.copy(),
            "active": active,
            "illegal_actions": self._illegal.copy(),
            "episode_return": self.episode_return.copy(),
        }
        idx = np.flatnonzero(done)
        if idx.size:
            info["final_obs"] = {k: v.copy() for k, v in obs.items()}
            info["final_state"] = self.layout.state(self.core)
            self.core.reset(idx)
            self._illegal[idx] = 0
            self.episode_return[idx] = 0.0
            o, m = self.layout.observe(self.core.subset(idx))
            obs["observation"][idx] = o
            obs["action_mask"][idx] = m
            self._mask = obs["action_mask"].copy()
        return obs, rewards, terminated, trunc, info

    def state(self) -> np.ndarray:
        return self.layout.state(self.core)

    def close(self) -> None:
        pass
