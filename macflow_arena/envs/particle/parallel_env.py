"""PettingZoo ParallelEnv over the particle core (the B=1 view)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..window_render import WindowRenderMixin

from ..validate import check_action, check_agent_keys
from .core import ParticleCore
from .task import ParticleTask

RENDER_MODES = ("human", "rgb_array")
_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT_TYPES = (np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.uint32, np.uint64)


class ParticleParallelEnv(WindowRenderMixin, ParallelEnv):
    """A particle scenario as a PettingZoo ``ParallelEnv``.

    Episodes last ``max_cycles`` steps: every agent's ``truncation`` is set at
    step ``max_cycles`` (never ``termination``). ``info[agent]`` carries the
    scenario's metrics (e.g. ``covered`` in cover, ``catches`` in tag).
    """

    def __init__(self, task: ParticleTask, entry, render_mode: str | None = None):
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, got {render_mode!r}")
        self.task = task
        self.scenario = task.spec
        self.env_id = entry.id
        self.entry = entry
        self.render_mode = render_mode
        self.metadata = {
            "name": entry.id,
            "render_modes": list(RENDER_MODES),
            "render_fps": task.spec.render_fps,
            "is_parallelizable": True,
        }
        self.possible_agents = list(task.agent_names)
        self.agents: list[str] = []
        self._core = ParticleCore(task, 1)
        s = task.spec
        self._obs_spaces = {
            a: spaces.Box(-np.inf, np.inf, shape=(d,), dtype=np.float32)
            for a, d in zip(self.possible_agents, task.obs_dims)
        }
        if s.discrete_actions:
            self._act_spaces = {a: spaces.Discrete(5) for a in self.possible_agents}
        else:
            self._act_spaces = {
                a: spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32) for a in self.possible_agents
            }
        self.state_space = spaces.Box(-np.inf, np.inf, shape=(self._core.state_dim,), dtype=np.float32)
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        # for the fast action path in step(): every seat has the same Box(-b, b, (2,)) or Discrete(n)
        self._discrete = bool(s.discrete_actions)
        self._n_moves = 5
        box = self._act_spaces[self.possible_agents[0]] if not self._discrete else None
        same = all(sp == box for sp in self._act_spaces.values()) if box is not None else False
        symmetric = box is not None and box.shape == (2,) and np.all(box.low == -box.high) and np.all(box.high == box.high.flat[0])
        self._box_bound = float(box.high.flat[0]) if same and symmetric else None
        self._started = False
        self.team_return = 0.0
        self._drawer = None
        self._window = None
        self.render_size = 600  # frame side in pixels for render() / render_frame()

    # -- spaces -----------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[agent]

    @property
    def num_steps(self) -> int:
        return int(self._core.t[0])

    # -- episode ----------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._core.seed([0], [seed])
        self._core.reset([0])
        self.agents = list(self.possible_agents)
        self._started = True
        self.team_return = 0.0
        obs = self._observations()
        infos = self._infos()
        if self.render_mode == "human":
            self.render()
        return obs, infos

    def step(self, actions: dict[str, Any]):
        if not self._started:
            raise RuntimeError(f"{self.env_id}: step() called before reset(); call env.reset() first")
        if not self.agents:
            raise RuntimeError(f"{self.env_id}: the episode is over (no live agents); call env.reset()")
        batch = self._fast_batch(actions)
        if batch is None:  # anything unusual: the full checks, which raise naming the agent
            check_agent_keys(actions, self.agents, self.possible_agents)
            checked = [check_action(a, actions[a], self._act_spaces[a]) for a in self.possible_agents]
            batch = np.stack(checked)[None]
        rewards, truncated = self._core.step(batch)
        obs = self._observations()
        rew = dict(zip(self.possible_agents, rewards[0].tolist()))
        self.team_return += float(rewards[0, 0])
        done = bool(truncated[0])
        terms = dict.fromkeys(self.agents, False)
        truncs = dict.fromkeys(self.agents, done)
        infos = self._infos(self._core.last_metrics)
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rew, terms, truncs, infos

    def _fast_batch(self, actions) -> np.ndarray | None:
        """The [1, N, ...] action batch when every action is plainly valid, else None.

        The common case (a dict with one float array in the box, or one int in
        range, per live agent) costs a few microseconds; everything else goes
        through ``check_agent_keys``/``check_action``, which produce the same
        values for valid input and a clear error for invalid input.
        """
        if type(actions) is not dict or len(actions) != len(self.possible_agents) or self.agents != self.possible_agents:
            return None
        try:
            vals = [actions[a] for a in self.possible_agents]
        except KeyError:
            return None
        if self._discrete:
            for v in vals:
                if type(v) is not int and type(v) not in _INT_TYPES:
                    return None
            try:
                arr = np.array(vals, dtype=np.int64)
            except OverflowError:  # a Python int beyond int64
                return None
            if arr.min() < 0 or arr.max() >= self._n_moves:
                return None
            return arr[None]
        if self._box_bound is None:
            return None
        for v in vals:
            if type(v) is not np.ndarray or v.dtype not in _FLOAT_TYPES or v.shape != (2,):
                return None
        arr = np.array(vals, dtype=np.float64)
        # NaN fails the comparisons too, and so takes the slow path that reports it.
        top = np.abs(arr).max()
        if top <= self._box_bound:
            return arr[None]
        if top <= self._box_bound + 1e-6:  # within check_action's tolerance: clipped, as there
            return np.clip(arr, -self._box_bound, self._box_bound)[None]
        return None

    def _observations(self) -> dict[str, np.ndarray]:
        o = self._core.observe()[0]
        return {a: o[i, :d].copy() for i, (a, d) in enumerate(zip(self.possible_agents, self.task.obs_dims))}

    def _infos(self, metrics=None) -> dict[str, dict]:
        m = {k: v[0].item() for k, v in (self._core.metrics() if metrics is None else metrics).items()}
        return {a: dict(m) for a in self.possible_agents}

    def state(self) -> np.ndarray:
        return self._core.state()[0]

    # -- rendering --------------------------------------------------------
    def hud_lines(self) -> list[str]:
        return [f"{self.env_id}  step {self.num_steps}/{self.task.spec.max_cycles}", f"team return {self.team_return:.2f}"]

    def render_frame(self, extra_hud: list[str] | None = None, highlight=()) -> np.ndarray:
        """The current state as an RGB array; ``highlight``: seats (agent names) to ring."""
        if self._drawer is None or self._drawer_size != self.render_size:
            from ...render.particle import ParticleDrawer

            self._drawer = ParticleDrawer(self.task, size=self.render_size)
            self._drawer_size = self.render_size
        hud = self.hud_lines() + list(extra_hud or [])
        rings = [self._index[a] for a in highlight if a in self._index]
        return self._drawer.draw(self._core.pos[0], self._core.vel[0], hud, rings)
