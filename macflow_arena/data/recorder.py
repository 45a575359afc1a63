"""RecordEpisodes: record any PettingZoo ParallelEnv into a dataset.

Wrap the env, play it as usual (``reset``/``step``), and every finished
episode is queued; each ``episodes_per_shard`` episodes are committed as a
shard (``flush()`` commits now, ``close()`` commits what is finished).

Stored per step and agent (see ``schema.py`` for the layout): observations
including the final next observation (obs row 0 is the reset observation),
actions, rewards, terminations and truncations (terminated wins when an env
sets both), action masks of Dict observations, the global ``state()`` when the
env has one, the ``info_keys`` you select; per episode: the reset seed and how
many seedless resets followed it (``reset_index``), the policy name of each
seat, the human seats, start and wall time.

Agents that leave ``agents`` mid-episode keep their slot: arrays are
``[T, N, ...]`` and ``alive[t, i]`` says agent i acted at step t; obs row t+1
of its last step holds its final observation; later rows are zeros.

An episode in progress when ``reset()`` or ``close()`` is called (window
closed, Ctrl-C) is dropped by default; with ``on_interrupt="truncate"`` it is
stored with the live agents' last step marked truncated and the episode's
``interrupted`` flag set.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
from gymnasium import spaces
from pettingzoo.utils.wrappers import BaseParallelWrapper

from .blocks import EpisodeBlock
from .schema import obs_keys
from ..envs.layout import header_entities
from .writer import DatasetWriter, make_header


def env_identity(env) -> dict[str, Any]:
    """env id, scenario file hash and resolved scenario config of one of our envs (or what is known)."""
    from ..spec import file_sha256, spec_to_dict

    base = getattr(env, "unwrapped", env)
    out: dict[str, Any] = {"env_id": getattr(base, "env_id", None) or base.metadata.get("name", type(base).__name__)}
    entry = getattr(base, "entry", None)
    if entry is not None and getattr(entry, "path", None) is not None:
        out["scenario_sha256"] = file_sha256(entry.path)
    spec = getattr(base, "scenario", None)
    if spec is not None:
        try:
            out["scenario"] = jsonable(spec_to_dict(spec))
        except TypeError:
            pass
    return out


def jsonable(obj: Any) -> Any:
    """Plain JSON (non-finite floats as strings, tuples and arrays as lists)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def _state_space(env):
    """The env's ``state_space``, else a Box shaped like ``state()`` if that works before reset, else None."""
    sp = getattr(env, "state_space", None)
    if isinstance(sp, spaces.Space):
        return sp
    try:
        st = np.asarray(env.state())
    except Exception:  # noqa: BLE001 - PettingZoo's default raises NotImplementedError; others vary
        return None
    return spaces.Box(-np.inf, np.inf, shape=st.shape, dtype=st.dtype)


class RecordEpisodes(BaseParallelWrapper):
    """Record ``env`` into ``dataset`` (a folder path or an open ``DatasetWriter``)."""

    def __init__(self, env, dataset: str | os.PathLike | DatasetWriter, *, episodes_per_shard: int = 100,
                 behaviour: Mapping | None = None, quality: str | None = None, policies: Mapping[str, str] | None = None,
                 human_seats: Iterable[str] = (), info_keys: Iterable[str] = (), record_state: bool | None = None,
                 on_interrupt: str = "drop", reference_returns: Mapping | None = None, mode: str = "auto",
                 config: Mapping | None = None, env_id: str | None = None):
        super().__init__(env)
        if on_interrupt not in ("drop", "truncate"):
            raise ValueError("on_interrupt must be 'drop' or 'truncate'")
        self.on_interrupt = on_interrupt
        self._agents = list(env.possible_agents)
        self._index = {a: i for i, a in enumerate(self._agents)}
        self.info_keys = list(info_keys)
        self._state_enabled = record_state
        self._episode: dict[str, Any] | None = None
        self._seed, self._reset_index = -1, -1
        self.policies = {a: "unknown" for a in self._agents}
        self.human_seats: set[str] = set()
        self.set_seats(policies, human_seats)
        if isinstance(dataset, DatasetWriter):
            self.writer = dataset
        else:
            ident = env_identity(env)
            if env_id:
                ident["env_id"] = env_id
            state_space = _state_space(env) if record_state is not False else None
            if record_state and state_space is None:
                raise ValueError(f"{ident['env_id']} has no state() to record (no state_space)")
            header = make_header(
                env_id=ident["env_id"], scenario_sha256=ident.get("scenario_sha256"), agents=self._agents,
                observation_spaces={a: env.observation_space(a) for a in self._agents},
                action_spaces={a: env.action_space(a) for a in self._agents}, state_space=state_space,
                info_keys=self.info_keys, behaviour=jsonable(behaviour or {}), quality=quality,
                reference_returns=jsonable(reference_returns or {}),
                config=jsonable({"recorder": "RecordEpisodes", "episodes_per_shard": episodes_per_shard,
                                 "on_interrupt": on_interrupt, "scenario": ident.get("scenario"), **(config or {})}),
                entities=header_entities(env),
            )
            self.writer = DatasetWriter(Path(dataset), header, episodes_per_shard=episodes_per_shard, mode=mode)
        self.layout = self.writer.layout
        self._state = "state" in self.layout
        self._obs_keys = obs_keys(env.observation_space(self._agents[0]))
        self.committed_ids: list[int] = []
        self.closed = False

    _OWN = frozenset({"env", "on_interrupt", "info_keys", "policies", "human_seats", "writer", "layout",
                      "committed_ids", "closed"})

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings of the wrapped env (e.g. the play loop's ``render_size``) go to the env.
        if name.startswith("_") or name in self._OWN or "env" not in self.__dict__ or not hasattr(self.env, name):
            object.__setattr__(self, name, value)
        else:
            setattr(self.env, name, value)

    # -- seats --------------------------------------------------------------------------------
    def set_seats(self, policies: Mapping[str, str] | None = None, human_seats: Iterable[str] | None = None) -> None:
        """Name the policy of each seat and the human seats (applies to the current and later episodes)."""
        for a, name in (policies or {}).items():
            if a not in self._index:
                raise KeyError(f"unknown seat {a!r}; seats are {self._agents}")
            self.policies[a] = str(name)
        if human_seats is not None:
            bad = [a for a in human_seats if a not in self._index]
            if bad:
                raise KeyError(f"unknown seat(s) {bad}; seats are {self._agents}")
            self.human_seats = set(human_seats)

    # -- recording ----------------------------------------------------------------------------
    def _obs_rows(self, obs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        rows = {}
        n = len(self._agents)
        for k, name in self._obs_keys.items():
            f = self.layout[name]
            row = np.zeros((n,) + tuple(f["shape"]), dtype=f["dtype"])
            for a, o in obs.items():
                i = self._index[a]
                v = o if k is None else o[k]
                if f["flat"]:
                    v = np.asarray(v).reshape(-1)
                    row[i, : v.size] = v
                else:
                    row[i] = v
            rows[name] = row
        return rows

    def reset(self, seed: int | None = None, options: dict | None = None):
        if self.closed:
            raise RuntimeError("RecordEpisodes is closed")
        self._interrupt()
        obs, infos = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._seed, self._reset_index = int(seed), 0
        else:
            self._reset_index += 1
        ep: dict[str, Any] = {"obs": [self._obs_rows(obs)], "start": time.time(), "t0": time.perf_counter(),
                              "action": [], "reward": [], "terminated": [], "truncated": [], "alive": [],
                              "info": [], "state": []}
        if self._state:
            ep["state"].append(np.asarray(self.env.state(), dtype=self.layout["state"]["dtype"]))
        self._episode = ep
        return obs, infos

    def _action_row(self, actions: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        f = self.layout["action"]
        n = len(self._agents)
        row = np.zeros((n,) + tuple(f["shape"]), dtype=f["dtype"])
        alive = np.zeros(n, dtype=bool)
        for a, act in actions.items():
            if a not in self._index:
                raise KeyError(f"action for unknown agent {a!r}; agents are {self._agents}")
            i = self._index[a]
            v = np.asarray(act)
            if f["flat"]:
                v = v.reshape(-1)
                row[i, : v.size] = v
            else:
                if v.shape != tuple(f["shape"]):
                    raise ValueError(f"{a}: action shape {v.shape} != action space shape {tuple(f['shape'])}")
                row[i] = v
            alive[i] = True
        low, high = f["_low"], f["_high"]
        vals = row.astype(np.float64)
        bad = ~np.isfinite(vals) | (vals < low) | (vals > high)
        bad = bad.reshape(n, -1).any(-1) & alive
        if bad.any():
            a = self._agents[int(np.argmax(bad))]
            raise ValueError(f"{a}: action {actions[a]!r} is outside its space {self.env.action_space(a)}; "
                             "clip or fix the policy's actions (nothing was stepped)")
        return row, alive

    def step(self, actions: Mapping[str, Any]):
        ep = self._episode
        if ep is None:
            return self.env.step(actions)  # not recording (no reset through the wrapper): let the env complain
        row, alive = self._action_row(actions)
        obs, rew, term, trunc, infos = self.env.step(actions)
        n = len(self._agents)
        r = np.zeros(n, dtype=np.float64)
        te = np.zeros(n, dtype=bool)
        tr = np.zeros(n, dtype=bool)
        for a in actions:
            i = self._index[a]
            r[i] = float(rew.get(a, 0.0))
            te[i] = bool(term.get(a, False))
            tr[i] = bool(trunc.get(a, False)) and not te[i]
        ep["action"].append(row)
        ep["reward"].append(r)
        ep["terminated"].append(te)
        ep["truncated"].append(tr)
        ep["alive"].append(alive)
        ep["obs"].append(self._obs_rows({a: o for a, o in obs.items() if a in self._index}))
        if self.info_keys:
            inf = np.zeros((len(self.info_keys), n), dtype=np.float64)
            for a in actions:
                d = infos.get(a, {}) or {}
                for k, key in enumerate(self.info_keys):
                    inf[k, self._index[a]] = float(d.get(key, 0.0))
            ep["info"].append(inf)
        if self._state:
            ep["state"].append(np.asarray(self.env.state(), dtype=self.layout["state"]["dtype"]))
        if not self.env.agents or (te | tr)[alive].all():
            self._finish(interrupted=False)
        return obs, rew, term, trunc, infos

    def _finish(self, interrupted: bool) -> None:
        ep, self._episode = self._episode, None
        steps = len(ep["action"])
        if steps == 0:
            return
        data: dict[str, np.ndarray] = {}
        for name in self._obs_keys.values():
            data[name] = np.stack([row[name] for row in ep["obs"]])[None]
        for name in ("action", "reward", "terminated", "truncated", "alive"):
            data[name] = np.stack(ep[name])[None]
        if interrupted:
            last = data["alive"][0, -1] & ~data["terminated"][0, -1]
            data["truncated"][0, -1] |= last
        for k, key in enumerate(self.info_keys):
            data[f"info.{key}"] = np.stack([row[k] for row in ep["info"]])[None]
        if self._state:
            data["state"] = np.stack(ep["state"])[None]
        data["seed"] = np.array([self._seed], dtype=np.int64)
        data["reset_index"] = np.array([self._reset_index], dtype=np.int64)
        data["start_time"] = np.array([ep["start"]], dtype=np.float64)
        data["wall_time"] = np.array([time.perf_counter() - ep["t0"]], dtype=np.float64)
        data["interrupted"] = np.array([interrupted])
        data["policy"] = np.array([[self.policies[a] for a in self._agents]], dtype=str)
        data["human"] = np.array([[a in self.human_seats for a in self._agents]])
        self.committed_ids += self.writer.add(EpisodeBlock(steps, data))

    def _interrupt(self) -> None:
        if self._episode is not None:
            if self.on_interrupt == "truncate":
                self._finish(interrupted=True)
            else:
                self._episode = None

    def flush(self) -> None:
        """Commit every finished episode now (as one shard)."""
        self.writer.commit()

    def close(self) -> None:
        """Handle the episode in progress (drop or mark truncated), commit the rest, close the env."""
        if self.closed:
            return
        self.closed = True
        try:
            self._interrupt()
        finally:
            try:
                self.writer.close()
            finally:
                self.env.close()
