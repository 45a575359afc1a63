"""One env played by one seating: episode seeds, returns, frames.

Shared by the interactive loop and video export. Episode k of a run with
seed s is reset with seed ``s + k`` (env and every policy), so any episode
can be replayed on its own.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .seats import Seating


def random_seed() -> int:
    return int(np.random.SeedSequence().entropy % (2**31))


class Session:
    def __init__(self, env, seating: Seating, seed: int | None = None, size: int | None = None):
        self.env = env
        self.seating = seating
        self.seed = random_seed() if seed is None else int(seed)
        if size is not None and hasattr(env, "render_size"):
            env.render_size = int(size)
        params = inspect.signature(env.render_frame).parameters
        self._highlight = "highlight" in params
        self.episodes_started = 0
        self.episode_seed: int | None = None
        self.obs: dict[str, Any] = {}
        self.infos: dict[str, Any] = {}
        self.t = 0  # steps in the current episode
        self.total_steps = 0
        self.episode_return = 0.0
        self.done = True

    def reset(self) -> None:
        self.episode_seed = self.seed + self.episodes_started
        self.obs, self.infos = self.env.reset(seed=self.episode_seed)
        self.seating.reset(self.episode_seed)
        self.episodes_started += 1
        self.t = 0
        self.episode_return = 0.0
        self.done = False

    def step(self) -> bool:
        """One env step with every seat's action; True when the episode ended."""
        live = set(self.env.agents)  # agents that died earlier in the episode get no action
        actions = self.seating.act({a: o for a, o in self.obs.items() if a in live})
        obs, rewards, _, _, infos = self.env.step(actions)
        self.obs, self.infos = obs, infos
        self.t += 1
        self.total_steps += 1
        team = getattr(self.env, "team_return", None)
        if team is not None:
            self.episode_return = float(team)
        elif rewards:
            self.episode_return += float(next(iter(rewards.values())))
        self.done = not self.env.agents
        return self.done

    def frame(self, extra_hud: list[str] | None = None) -> np.ndarray:
        """The current state drawn with the env's HUD, ``extra_hud`` and the human seats ringed."""
        if self._highlight:
            return self.env.render_frame(extra_hud, highlight=tuple(self.seating.human_seats))
        return self.env.render_frame(extra_hud)
