"""Shared helpers for the environment tests (conformance, determinism, rules, bad input).

Everything here works for any registered env id: actions are sampled from the
env's own action spaces and respect an ``action_mask`` found in the agent's
observation dict or info dict.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

import macflow_arena

ENV_IDS = sorted(macflow_arena.list_envs())
PARTICLE_IDS = [e for e in ENV_IDS if e.startswith("particle/")]


def action_mask(obs: Any, info: Any):
    """The agent's action mask, from its observation dict or its info dict (or None)."""
    if isinstance(obs, Mapping) and "action_mask" in obs:
        return np.asarray(obs["action_mask"])
    if isinstance(info, Mapping) and "action_mask" in info:
        return np.asarray(info["action_mask"])
    return None


def sample_action(space: spaces.Space, rng: np.random.Generator, mask=None):
    """A random legal action for ``space``, drawn from ``rng`` only (reproducible)."""
    if isinstance(space, spaces.Discrete):
        if mask is not None:
            legal = np.flatnonzero(mask)
            assert legal.size, "all actions are masked"
            return np.int64(space.start + rng.choice(legal))
        return np.int64(space.start + rng.integers(space.n))
    if isinstance(space, spaces.Box):
        return rng.uniform(space.low, space.high, size=space.shape).astype(space.dtype)
    space.seed(int(rng.integers(2**31)))
    return space.sample()


def sample_actions(env, obs: Mapping, infos: Mapping, rng: np.random.Generator) -> dict:
    """Random legal actions for every live agent of a ParallelEnv."""
    return {
        a: sample_action(env.action_space(a), rng, action_mask(obs.get(a), infos.get(a)))
        for a in env.agents
    }


def assert_same(x: Any, y: Any, where: str = "") -> None:
    """Bit-exact equality of nested dicts/lists/arrays/scalars, types included."""
    if isinstance(x, Mapping):
        assert isinstance(y, Mapping), f"{where}: {type(x)} vs {type(y)}"
        assert list(x.keys()) == list(y.keys()), f"{where}: keys {list(x)} vs {list(y)}"
        for k in x:
            assert_same(x[k], y[k], f"{where}[{k!r}]")
    elif isinstance(x, (list, tuple)):
        assert type(x) is type(y) and len(x) == len(y), f"{where}: {x!r} vs {y!r}"
        for i, (a, b) in enumerate(zip(x, y)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray), f"{where}: ndarray vs {type(y)}"
        assert x.dtype == y.dtype and x.shape == y.shape, f"{where}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{where}: {x} != {y}"
    else:
        assert type(x) is type(y), f"{where}: {type(x)} vs {type(y)}"
        if isinstance(x, float) and np.isnan(x):
            assert np.isnan(y), f"{where}: {x} vs {y}"
        else:
            assert x == y, f"{where}: {x!r} != {y!r}"


def snapshot(env) -> dict:
    """What must not change when a bad call is rejected."""
    snap = {"agents": list(env.agents)}
    if hasattr(env, "state"):
        try:
            snap["state"] = np.array(env.state(), copy=True)
        except Exception as e:  # noqa: BLE001 - some envs refuse state() before reset
            snap["state"] = repr(e)
    for name in ("num_steps", "team_return"):
        if hasattr(env, name):
            snap[name] = getattr(env, name)
    return snap


def check_obs(env, agent: str, o: Any) -> None:
    """The observation is in the agent's observation space and finite."""
    space = env.observation_space(agent)
    assert space.contains(o), f"{env}: {agent} observation {o!r} not in {space}"
    arrays = o.values() if isinstance(o, Mapping) else [o]
    for arr in arrays:
        arr = np.asarray(arr)
        if arr.dtype.kind == "f":
            assert np.isfinite(arr).all(), f"{agent}: non-finite observation {arr}"
