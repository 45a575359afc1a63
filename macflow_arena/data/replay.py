"""Replay a stored episode: re-simulate it from its seed and actions, and yield frames.

Our envs are deterministic given the seed, so the replay also checks that the
re-simulated observations equal the stored ones (``Divergence`` says where
they stop matching: the scenario file or the code changed since recording).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np


class ReplayError(ValueError):
    pass


@dataclasses.dataclass
class Divergence:
    step: int | None = None
    agent: str | None = None


def _replay_env(header: dict, render_mode: str | None):
    from ..registry import UnknownEnvError, make

    env_id = header["env_id"]
    try:
        env = make(env_id, render_mode=render_mode)
    except UnknownEnvError:
        raise ReplayError(f"replay needs a macflow-arena env; this dataset was recorded on {env_id!r}") from None
    stored = (header.get("config") or {}).get("scenario")
    spec = getattr(env, "scenario", None)
    if stored and spec is not None:
        overrides = {}
        for f in dataclasses.fields(spec):
            if f.name not in stored:
                continue
            v = stored[f.name]
            if isinstance(getattr(spec, f.name), float) and isinstance(v, str):
                v = float(v)
            if isinstance(getattr(spec, f.name), tuple) and isinstance(v, list):
                v = tuple(v)
            if v != getattr(spec, f.name):
                overrides[f.name] = v
        if overrides:
            env.close()
            env = make(env_id, render_mode=render_mode, **overrides)
    return env


def replay_frames(header: dict, episode: dict, divergence: Divergence | None = None,
                  render_mode: str | None = "rgb_array") -> Iterator[np.ndarray]:
    """Frames of ``episode`` (reset frame + one per step); fills ``divergence`` if obs stop matching."""
    agents = list(header["agents"])
    if (header.get("behaviour") or {}).get("label") == "intended":
        raise ReplayError("this dataset stores the behaviour's intended actions (recorded with --label intended), "
                          "not the noisy ones the env executed, so its episodes cannot be re-simulated")
    env = _replay_env(header, render_mode)
    div = divergence if divergence is not None else Divergence()
    try:
        seed = int(episode["seed"])
        if seed < 0:
            raise ReplayError("this episode was recorded without a reset seed; it cannot be re-simulated")
        obs, _ = env.reset(seed=seed)
        for _ in range(int(episode["reset_index"])):
            obs, _ = env.reset()
        for t in range(int(episode["steps"]) + 1):
            if t:
                acts = {a: episode["action"][t - 1, i] for i, a in enumerate(agents) if episode["alive"][t - 1, i]}
                acts = {a: (int(v) if np.ndim(v) == 0 and np.issubdtype(np.asarray(v).dtype, np.integer) else v)
                        for a, v in acts.items()}
                obs, *_ = env.step(acts)
            if div.step is None:
                for i, a in enumerate(agents):
                    if a in obs:
                        o = obs[a]["observation"] if isinstance(obs[a], dict) else obs[a]
                        o = np.asarray(o).reshape(-1)
                        if not np.array_equal(o, episode["obs"][t, i].reshape(-1)[: o.size]):
                            div.step, div.agent = t, a
                            break
            if render_mode is not None:
                yield env.render()
    finally:
        env.close()
