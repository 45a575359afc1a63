"""PettingZoo ParallelEnv over the skirmish core (the B=1 view)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..window_render import WindowRenderMixin

from ..validate import IllegalActionError, check_action, check_agent_keys, illegal_action_message
from .core import MirrorView, SkirmishCore
from .observe import ObsLayout
from .task import SkirmishTask

RENDER_MODES = ("human", "rgb_array")
STOP = 1


class SkirmishParallelEnv(WindowRenderMixin, ParallelEnv):
    """A skirmish map as a PettingZoo ``ParallelEnv``: the ally team's units are the agents.

    * Observations are dicts ``{"observation": float32 [obs_dim], "action_mask": int8
      [n_actions]}`` (PettingZoo's convention); ``info[agent]["action_mask"]`` repeats
      the mask. See ``observe.py`` for the layout and ``actions.py`` for the actions.
    * A unit that dies gets ``termination`` True on that step and leaves ``agents``;
      when a side is out of fighting units every remaining agent terminates, and at
      ``max_cycles`` steps every remaining agent is truncated.
    * ``info[agent]``: ``action_mask``, ``battle_won``, ``dead_allies``,
      ``dead_enemies`` and ``illegal_actions`` (masked actions replaced by stop this
      episode for that agent, with ``illegal_action = "noop"``).
    * ``state()`` / ``state_space``: the global state for centralised training.
    * ``enemy_control = "external"``: the enemy units are seats too (``enemy_0`` ..),
      seeing and acting from their side (attack ally k, heal enemy k) with the same
      reward formula for their side; ``battle_won`` is then per seat's side.
    * ``reset_to(...)`` starts from a constructed state; ``render_frame(...)`` draws.
    """

    def __init__(self, task: SkirmishTask, entry, render_mode: str | None = None):
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, got {render_mode!r}")
        self.task = task
        self.scenario = task.spec
        self.env_id = entry.id
        self.entry = entry
        self.family = "skirmish"
        self.render_mode = render_mode
        self.metadata = {
            "name": entry.id,
            "render_modes": list(RENDER_MODES),
            "render_fps": task.spec.render_fps,
            "is_parallelizable": True,
        }
        self.external = task.external_enemies
        self.possible_agents = list(task.agent_names) + (list(task.enemy_names) if self.external else [])
        self.agents: list[str] = []
        self.layout = ObsLayout(task)
        self.actions = task.actions
        self._core = SkirmishCore(task, 1)
        a = task.n_allies
        # seat -> unit index in the core's [U] arrays (allies 0..A-1, enemies A..)
        self._index = {name: i for i, name in enumerate(self.possible_agents)}
        self.enemy_layout = ObsLayout(task.mirrored()) if self.external else None
        self._obs_spaces, self._act_spaces = {}, {}
        for name, i in self._index.items():
            lay, acts = (self.layout, task.actions) if i < a else (self.enemy_layout, task.enemy_actions)
            self._obs_spaces[name] = spaces.Dict({
                "observation": spaces.Box(-1.0, 1.0, shape=(lay.obs_dim,), dtype=np.float32),
                "action_mask": spaces.Box(0, 1, shape=(acts.n,), dtype=np.int8),
            })
            self._act_spaces[name] = spaces.Discrete(acts.n)
        self.state_space = spaces.Box(-1.0, 1.0, shape=(self.layout.state_dim,), dtype=np.float32)
        self._started = False
        self._masks: dict[str, np.ndarray] = {}
        self._illegal = np.zeros(task.n_units, dtype=np.int64)
        self.team_return = 0.0
        self.enemy_return = 0.0
        self.last_reward = 0.0
        self._drawer = None
        self._drawer_size = None
        self._window = None
        self.overlays: list = []  # callables -> {"marker", "highlight", "selected"} from human policies
        self.render_size = 640  # longer frame side in pixels for render() / render_frame()

    # -- spaces -----------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[agent]

    @property
    def core(self) -> SkirmishCore:
        return self._core

    @property
    def num_steps(self) -> int:
        return int(self._core.t[0])

    def action_mask(self, agent: str) -> np.ndarray:
        """The current legal-action mask of ``agent`` (a copy)."""
        return self._masks[agent].copy()

    def actions_of(self, agent: str):
        """The action layout of ``agent``'s side (enemy seats attack allies, heal enemies)."""
        return self.actions if self._index[agent] < self.task.n_allies else self.task.enemy_actions

    def unit_of(self, agent: str) -> int:
        """``agent``'s unit index in the core's [U] arrays (allies 0..A-1, enemies A..)."""
        return self._index[agent]

    # -- episode ----------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._core.seed([0], [seed])
        self._core.reset([0])
        self.agents = list(self.possible_agents)
        self._started = True
        self.team_return = 0.0
        self.enemy_return = 0.0
        self.last_reward = 0.0
        self._illegal[:] = 0
        obs, infos = self._observe(self.agents)
        if self.render_mode == "human":
            self.render()
        return obs, infos

    def reset_to(self, pos=None, hp=None, shield=None, cooldown=None, seed: int | None = None):
        """Start a battle from a constructed state (rule tests, set pieces, replays).

        Resets (with ``seed``), then overrides per-unit arrays given in unit order
        (allies then enemies): ``pos`` [U, 2], ``hp`` [U], ``shield`` [U] (clipped
        to the type's maximum) and ``cooldown`` [U] (steps until the weapon is
        ready). Units with ``hp`` 0 start dead. Returns ``(obs, infos)``.
        """
        self.reset(seed=seed)
        c = self._core
        u = self.task.n_units
        if pos is not None:
            pos = np.asarray(pos, dtype=np.float64).reshape(u, 2)
            if not self.task.terrain.passable(pos).all():
                raise ValueError(f"{self.env_id}: reset_to positions must lie inside the map and off walls")
            c.pos[0] = pos
        if hp is not None:
            c.hp[0] = np.minimum(np.asarray(hp, dtype=np.float64).reshape(u), c.max_hp[0])
            c.alive[0] = c.hp[0] > 0
        if shield is not None:
            c.shield[0] = np.clip(np.asarray(shield, dtype=np.float64).reshape(u), 0.0, c.max_shield[0])
        if cooldown is not None:
            c.cooldown[0] = np.asarray(cooldown, dtype=np.int64).reshape(u)
        c.shield[0] = np.where(c.alive[0], c.shield[0], 0.0)
        self.agents = [a for a in self.possible_agents if c.alive[0, self._index[a]]]
        return self._observe(self.agents)

    def step(self, actions: dict[str, Any]):
        if not self._started:
            raise RuntimeError(f"{self.env_id}: step() called before reset(); call env.reset() first")
        if not self.agents:
            raise RuntimeError(f"{self.env_id}: the battle is over (no live agents); call env.reset()")
        check_agent_keys(actions, self.agents, self.possible_agents)
        a = self.task.n_allies
        batch = np.zeros((1, self.task.n_units), dtype=np.int64)
        replaced = []
        for agent in self.agents:
            i = self._index[agent]
            act = int(check_action(agent, actions[agent], self._act_spaces[agent]))
            mask = self._masks[agent]
            if not mask[act]:
                if self.scenario.illegal_action == "raise":
                    raise IllegalActionError(illegal_action_message(agent, act, mask, self.actions_of(agent).name))
                replaced.append(i)
                act = STOP
            batch[0, i] = act
        self._illegal[replaced] += 1
        res = self._core.step(batch[:, :a], batch[:, a:] if self.external else None)
        live = list(self.agents)
        reward = float(res["reward"][0])
        enemy_reward = float(res["enemy_reward"][0]) if self.external else 0.0
        over, truncated = bool(res["over"][0]), bool(res["truncated"][0])
        died = res["died"][0]
        terms = {ag: bool(over or died[self._index[ag]]) for ag in live}
        truncs = {ag: bool(truncated and not terms[ag]) for ag in live}
        rewards = {ag: (reward if self._index[ag] < a else enemy_reward) for ag in live}
        self.team_return += reward
        self.enemy_return += enemy_reward
        self.last_reward = reward
        self.agents = [ag for ag in live if not (terms[ag] or truncs[ag])]
        obs, infos = self._observe(live)
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    def _observe(self, agents: list[str]):
        c = self._core
        a = self.task.n_allies
        o, m = self.layout.observe(c)
        if self.external:
            eo, em = self.enemy_layout.observe(MirrorView(c))
            o = {"ally": o, "enemy": eo}
            m = {"ally": m, "enemy": em}
        dead_a, dead_e = int((~c.alive[0, :a]).sum()), int((~c.alive[0, a:]).sum())
        ally_info = {"battle_won": bool(c.won[0]), "dead_allies": dead_a, "dead_enemies": dead_e}
        enemy_info = {"battle_won": bool(c.over[0] and c.outcome()[0] == -1), "dead_allies": dead_e,
                      "dead_enemies": dead_a}
        obs, infos = {}, {}
        for name, i in self._index.items():
            if i < a:
                oo, mm = (o["ally"], m["ally"]) if self.external else (o, m)
                row, common = i, ally_info
            else:
                oo, mm, row, common = o["enemy"], m["enemy"], i - a, enemy_info
            mask = mm[0, row].copy()
            self._masks[name] = mask
            if name in agents:
                obs[name] = {"observation": oo[0, row].copy(), "action_mask": mask}
                infos[name] = {"action_mask": mask, **common, "illegal_actions": int(self._illegal[i])}
        return obs, infos

    def state(self) -> np.ndarray:
        return self.layout.state(self._core)[0]

    # -- rendering --------------------------------------------------------
    def hud_lines(self) -> list[str]:
        c = self._core
        a = self.task.n_allies
        secs = self.num_steps * self.scenario.step_seconds
        return [
            f"{self.env_id}  step {self.num_steps}/{self.scenario.max_cycles}  ({secs:.1f} s)",
            f"allies {int(c.alive[0, :a].sum())}/{a}  enemies {int(c.alive[0, a:].sum())}/{self.task.n_enemies}",
            f"team return {self.team_return:.2f}"
            + (f"  enemy return {self.enemy_return:.2f}" if self.external else ""),
        ]

    @property
    def drawer(self):
        """The frame drawer (pixel <-> world conversions for mouse input live here)."""
        if self._drawer is None or self._drawer_size != self.render_size:
            from ...render.skirmish import SkirmishDrawer

            self._drawer = SkirmishDrawer(self.task, size=self.render_size)
            self._drawer_size = self.render_size
        return self._drawer

    def pixel_to_world(self, px: float, py: float) -> np.ndarray:
        """World (x, y) under frame pixel (px, py)."""
        return self.drawer.to_world(px, py)

    def unit_at_pixel(self, px: float, py: float, side: str | None = None) -> int | None:
        """The living unit drawn at frame pixel (px, py): allies 0..A-1, enemies A.. (or None)."""
        return self.drawer.unit_at(self._core.snapshot(0), px, py, side=side)

    def render_frame(self, extra_hud: list[str] | None = None, highlight=(), selected=None,
                     show_ranges: bool = True, marker=None) -> np.ndarray:
        """An RGB frame (uint8 [H, W, 3], constant size, even sides) of the battle.

        ``highlight``: seats (names or unit indices) to ring, e.g. the human's units;
        ``selected``: one unit index (allies 0..A-1, enemies A..) whose sight and
        attack ranges are drawn and whose attackable targets are marked; ``marker``:
        a world point to mark (a move order). Human policies add their own through
        ``overlays`` (callables returning a dict with any of ``highlight``,
        ``selected``, ``marker``, ``hud``); ``selected`` defaults to the first
        highlighted unit.
        """
        ring = [self._index[h] if isinstance(h, str) else int(h) for h in highlight]
        hud = self.hud_lines() + list(extra_hud or [])
        for source in self.overlays:
            extra = source() or {}
            hud += list(extra.get("hud", ()))
            ring += [int(u) for u in extra.get("highlight", ()) if int(u) not in ring]
            if selected is None:
                selected = extra.get("selected")
            if marker is None:
                marker = extra.get("marker")
        if selected is None and ring:
            selected = ring[0]
        banner = None
        if self._started and not self.agents:
            banner = {1: "VICTORY", -1: "DEFEAT"}.get(int(self._core.outcome()[0]), "DRAW")
            if not self._core.over[0]:
                banner = "TIME UP"
        return self.drawer.draw(self._core.snapshot(0), hud, highlight=ring,
                                selected=selected if show_ranges else None, banner=banner, marker=marker)
