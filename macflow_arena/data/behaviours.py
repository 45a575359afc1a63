"""Behaviour policies for recording, batched over a VectorEnv, and their noise knobs.

An actor has ``act_batch(obs, first) -> actions`` on VectorEnv arrays and a
``describe()`` dict stored as the dataset's ``behaviour``. Kinds:

* ``scripted``: the scenario's scripted expert;
* ``random``: uniform random actions (legal ones when the obs carries a mask);
* ``sb3``: a saved Stable-Baselines3 model (``model=PATH``), see ``sb3.py``.

``NoisyActor`` wraps any of them: with probability ``epsilon`` (per world and
agent) an action is replaced by a uniformly random (legal) one, and continuous
actions get Gaussian ``noise`` (std) and are clipped to the action box.
``epsilon`` may be an array [B] (one value per world): medium-replay uses it to
sweep from random to medium quality across the dataset's episodes.
With ``label="intended"`` the env still executes the perturbed action but the
dataset stores the behaviour's own (DART: Laskey et al., 2017): the recorded
states leave the behaviour's path and every label is its correction from there.
Recorders call ``act_and_label(obs, first) -> (executed, recorded)`` when an
actor has it, else store what ``act_batch`` returns.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

BEHAVIOURS = ("scripted", "random", "sb3")
LABELS = ("executed", "intended")  # which action a recording stores when the behaviour's is perturbed


def _mask_of(obs) -> np.ndarray | None:
    return np.asarray(obs["action_mask"]) if isinstance(obs, Mapping) and "action_mask" in obs else None


def random_actions(rng: np.random.Generator, space: spaces.Space, shape: tuple, mask=None) -> np.ndarray:
    """Uniform random actions of ``shape`` (batch dims) from ``space``; legal ones under ``mask``."""
    if isinstance(space, spaces.Discrete):
        if mask is not None:
            pick = (rng.uniform(size=mask.shape) * (mask > 0)).argmax(axis=-1)
            return (pick + space.start).astype(np.int64)
        return rng.integers(space.start, space.start + space.n, size=shape).astype(np.int64)
    if isinstance(space, spaces.Box):
        return rng.uniform(space.low, space.high, size=shape + space.shape).astype(space.dtype)
    raise ValueError(f"no random actions for {space}")


class RandomActor:
    def __init__(self, venv, seed: int | None = None):
        self.space = venv.action_space if isinstance(venv.action_space, spaces.Space) else venv.action_space(venv.agents[0])
        self.n = venv.n_agents
        self.rng = np.random.default_rng(seed)
        self.name = "random"

    def act_batch(self, obs, first):
        o = obs["observation"] if isinstance(obs, Mapping) else obs
        return random_actions(self.rng, self.space, (o.shape[0], self.n), _mask_of(obs))

    def describe(self) -> dict:
        return {"name": "random"}


class ScriptedActor:
    def __init__(self, venv, seed: int | None = None):
        from ..policies import ScriptedPolicy

        self.policy = ScriptedPolicy(venv, seed=seed)
        self.name = "scripted"

    def act_batch(self, obs, first):
        return self.policy.act_batch(obs, first)

    def describe(self) -> dict:
        return {"name": "scripted"}


class NoisyActor:
    """``base`` with epsilon-random actions and Gaussian noise (see the module doc)."""

    def __init__(self, base, venv, seed: int | None = None, noise: float = 0.0, epsilon=0.0, label: str = "executed"):
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
        self.base = base
        self.label = label
        self.space = venv.action_space if isinstance(venv.action_space, spaces.Space) else venv.action_space(venv.agents[0])
        self.n = venv.n_agents
        self.rng = np.random.default_rng(None if seed is None else seed + 7919)
        self.noise = float(noise)
        self.epsilon = epsilon
        self.name = base.name
        if self.noise and not isinstance(self.space, spaces.Box):
            raise ValueError(f"noise needs continuous actions; {self.space} is discrete: use epsilon")

    def act_batch(self, obs, first):
        return self.act_and_label(obs, first)[0]

    def act_and_label(self, obs, first):
        """(the actions the env executes, the actions the dataset stores): the same array unless
        ``label == "intended"``, where the dataset gets the behaviour's action before any noise."""
        intended = np.asarray(self.base.act_batch(obs, first))
        act = intended
        b = act.shape[0]
        if self.noise > 0:
            act = act + self.rng.normal(0.0, self.noise, size=act.shape)
            act = np.clip(act, self.space.low, self.space.high).astype(self.space.dtype)
        eps = np.broadcast_to(np.asarray(self.epsilon, dtype=np.float64).reshape(-1, 1), (b, 1)) \
            if np.ndim(self.epsilon) else np.full((b, 1), float(self.epsilon))
        if eps.max() > 0:
            swap = self.rng.uniform(size=(b, self.n)) < eps
            rand = random_actions(self.rng, self.space, (b, self.n), _mask_of(obs))
            sel = swap.reshape(swap.shape + (1,) * (act.ndim - 2))
            act = np.where(sel, rand, act).astype(act.dtype)
        return act, (intended.astype(act.dtype) if self.label == "intended" else act)

    def _label(self, eps: float) -> str:
        knobs = [f"eps={eps:.3f}"] if eps > 0 else []
        if self.noise:
            knobs.append(f"noise={self.noise:g}")
        return f"{self.name}({','.join(knobs)})" if knobs else self.name

    def seat_names(self, worlds: np.ndarray) -> np.ndarray:
        """Per-episode seat labels [k, N], e.g. ``scripted(eps=0.420)`` (medium-replay's sweep shows here)."""
        if not np.ndim(self.epsilon):
            return np.full((len(worlds), self.n), self._label(float(self.epsilon)))
        eps = np.asarray(self.epsilon, dtype=np.float64)[worlds]
        return np.array([[self._label(float(e))] * self.n for e in eps], dtype=str)

    def describe(self) -> dict:
        d = dict(self.base.describe())
        d["noise"] = self.noise
        d["epsilon"] = self.epsilon if not np.ndim(self.epsilon) else "per-episode schedule"
        if self.label != "executed":
            d["label"] = self.label
        return d


def make_actor(venv, behaviour: Mapping[str, Any], seed: int | None = 0):
    """An actor for ``behaviour`` = {"name": scripted|random|sb3, "noise", "epsilon", "label", "model"}."""
    name = behaviour.get("name", "scripted")
    if name == "scripted":
        base = ScriptedActor(venv, seed)
    elif name == "random":
        base = RandomActor(venv, seed)
    elif name == "sb3":
        from .sb3 import SB3Actor

        if not behaviour.get("model"):
            raise ValueError("behaviour sb3 needs model=PATH (a model saved by `macflow-arena behave train`)")
        base = SB3Actor(venv, behaviour["model"], deterministic=bool(behaviour.get("deterministic", True)))
    else:
        raise ValueError(f"unknown behaviour {name!r}; known: {', '.join(BEHAVIOURS)}")
    noise, eps = float(behaviour.get("noise", 0.0) or 0.0), behaviour.get("epsilon", 0.0) or 0.0
    label = behaviour.get("label", "executed") or "executed"
    if label != "executed" and not (noise or np.any(np.asarray(eps) > 0)):
        raise ValueError(f"label={label!r} needs noise or epsilon: without a perturbation every action is the behaviour's")
    if noise or np.any(np.asarray(eps) > 0) or name != "random":
        return NoisyActor(base, venv, seed=seed, noise=noise, epsilon=eps, label=label)
    return base


def evaluate(venv, actor, episodes: int, seed: int) -> np.ndarray:
    """Returns of ``episodes`` episodes (mean reward of the agents alive per step, summed), no recording."""
    b = venv.num_envs
    out: list[float] = []
    rnd = 0
    while len(out) < episodes:
        obs, _ = venv.reset(seed=seed + rnd * b)
        ret = np.zeros(b)
        live = np.ones((b, venv.n_agents), dtype=bool)
        finished = np.zeros(b, dtype=bool)
        first = np.ones(b, dtype=bool)
        while not finished.all():
            obs, rew, term, trunc, info = venv.step(actor.act_batch(obs, first))
            first = np.asarray(info.get("done", np.zeros(b, dtype=bool))).copy()
            if "active" in info:
                live = np.asarray(info["active"], dtype=bool)
            step_r = np.where(live, rew, 0.0).sum(-1) / np.maximum(live.sum(-1), 1)
            ret += np.where(finished, 0.0, step_r)
            live = live & ~term
            finished |= first
        out += ret.tolist()
        rnd += 1
    return np.asarray(out[:episodes])
