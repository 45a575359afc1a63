"""PettingZoo ParallelEnv over the particle core (the B=1 view)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..validate import check_action, check_agent_keys
from .core import ParticleCore
from .task import ParticleTask

RENDER_MODES = ("human", "rgb_array")


class ParticleParallelEnv(ParallelEnv):
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
        self._started = False
        self.team_return = 0.0
        self._drawer = None
        self._window = None

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
        check_agent_keys(actions, self.agents, self.possible_agents)
        checked = [check_action(a, actions[a], self._act_spaces[a]) for a in self.possible_agents]
        batch = np.stack(checked)[None]
        rewards, truncated = self._core.step(batch)
        obs = self._observations()
        rew = {a: float(rewards[0, i]) for i, a in enumerate(self.possible_agents)}
        self.team_return += float(rewards[0, 0])
        done = bool(truncated[0])
        terms = {a: False for a in self.agents}
        truncs = {a: done for a in self.agents}
        infos = self._infos()
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rew, terms, truncs, infos

    def _observations(self) -> dict[str, np.ndarray]:
        o = self._core.observe()[0]
        return {a: o[i, : self.task.obs_dims[i]].copy() for i, a in enumerate(self.possible_agents)}

    def _infos(self) -> dict[str, dict]:
        m = {k: v[0].item() for k, v in self._core.metrics().items()}
        return {a: dict(m) for a in self.possible_agents}

    def state(self) -> np.ndarray:
        return self._core.state()[0]

    # -- rendering --------------------------------------------------------
    def hud_lines(self) -> list[str]:
        return [f"{self.env_id}  step {self.num_steps}/{self.task.spec.max_cycles}", f"team return {self.team_return:.2f}"]

    def render_frame(self, extra_hud: list[str] | None = None) -> np.ndarray:
        if self._drawer is None:
            from ...render.particle import ParticleDrawer

            self._drawer = ParticleDrawer(self.task)
        hud = self.hud_lines() + list(extra_hud or [])
        return self._drawer.draw(self._core.pos[0], self._core.vel[0], hud)

    def render(self):
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called with render_mode=None; pass render_mode='rgb_array' or 'human' to make().")
            return None
        frame = self.render_frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from ...render.window import Window

            self._window = Window(self.env_id, frame.shape[1], frame.shape[0], fps=self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
        self._drawer = None
