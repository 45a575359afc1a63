"""Stable-Baselines3 behaviour policies: PPO with parameter sharing on our batched env.

``SharedAgentVecEnv`` is an SB3 ``VecEnv`` over one of our VectorEnvs in
which every (world, agent) pair is one SB3 env: B worlds of N agents give
B * N SB3 envs, all driven by one shared network. Observations get a one-hot
agent id appended (``obs_dim + N``). Time-limit ends are reported as SB3
expects (``TimeLimit.truncated`` and ``terminal_observation`` in the infos), so
PPO bootstraps through truncation instead of treating it as terminal.

``train_ppo`` trains and saves a real SB3 model (``model.zip``, plus
``model.json`` with the env id, scenario hash, spaces, hyperparameters and
learning curve). Its defaults (``PPO_DEFAULTS``: many worlds per rollout,
wide initial exploration, learning rate and clip range annealed linearly to
0 over the step or wall-time budget, whichever ends first) reach the scripted
expert's return on particle/spread in under 30 minutes on a 2-core machine
(benchmarks/results/sb3_ppo_spread.md). ``load_ppo`` loads it
through SB3's own ``PPO.load`` with every cloudpickled entry of the zip
replaced (``custom_objects``), so loading runs no pickled code; weights go
through ``torch.load(weights_only=True)`` inside SB3. ``SB3Actor`` (batched)
and ``SB3Policy`` (the ``Policy`` protocol: ``act(obs_by_agent)``) use it as
a behaviour policy.

Needs the optional extra: ``pip install "macflow-arena[sb3]"``.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

try:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecEnv
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'SB3 behaviour policies need stable-baselines3 and torch: pip install "macflow-arena[sb3]" '
        "(install the CPU build of torch first, as the README's Install section says)"
    ) from e


def _one_hot_obs(obs: np.ndarray, n: int) -> np.ndarray:
    """[B, N, D] -> [B * N, D + N] with each agent's one-hot id appended."""
    b = obs.shape[0]
    eye = np.broadcast_to(np.eye(n, dtype=np.float32), (b, n, n))
    return np.concatenate([obs.astype(np.float32, copy=False), eye], axis=-1).reshape(b * n, -1)


class SharedAgentVecEnv(VecEnv):
    """SB3 VecEnv view of a VectorEnv: one SB3 env per (world, agent); see the module doc."""

    def __init__(self, venv, seed: int = 0, reward_scale: float = 1.0):
        if not isinstance(venv.action_space, spaces.Box):
            raise ValueError(f"{venv.env_id}: PPO here supports continuous (Box) actions; "
                             "discrete or masked envs need a maskable PPO")
        self.venv = venv
        self.n_agents = venv.n_agents
        self._seed = seed
        self.reward_scale = float(reward_scale)
        obs_space = spaces.Box(-np.inf, np.inf, shape=(venv.obs_dim + venv.n_agents,), dtype=np.float32)
        super().__init__(venv.num_envs * venv.n_agents, obs_space, venv.action_space)
        self._actions = None
        self._ret = np.zeros(venv.num_envs)
        self._len = np.zeros(venv.num_envs, dtype=np.int64)

    def reset(self):
        obs, _ = self.venv.reset(seed=self._seed)
        self._ret[:] = 0
        self._len[:] = 0
        return _one_hot_obs(obs, self.n_agents)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float32).reshape((self.venv.num_envs, self.n_agents, -1))

    def step_wait(self):
        obs, rew, term, trunc, info = self.venv.step(np.clip(self._actions, -1.0, 1.0))
        n = self.n_agents
        self._ret += rew.mean(axis=1)
        self._len += 1
        dones = (term | trunc).reshape(-1)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        done_worlds = np.flatnonzero(info.get("done", (term | trunc).all(1)))
        if done_worlds.size:
            final = _one_hot_obs(info["final_obs"], n)
            for w in done_worlds:
                for i in range(n):
                    k = w * n + i
                    infos[k]["terminal_observation"] = final[k]
                    infos[k]["TimeLimit.truncated"] = bool(trunc[w, i] and not term[w, i])
                infos[w * n]["episode"] = {"r": float(self._ret[w]), "l": int(self._len[w]), "t": 0.0}
            self._ret[done_worlds] = 0
            self._len[done_worlds] = 0
        rew = rew.reshape(-1).astype(np.float32)
        if self.reward_scale != 1.0:
            rew = rew * np.float32(self.reward_scale)
        return _one_hot_obs(obs, n), rew, dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self, attr_name, None)] * len(self._get_indices(indices))

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [None] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._get_indices(indices))

    def seed(self, seed=None):
        if seed is not None:
            self._seed = int(seed)
        return [self._seed] * self.num_envs


_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


class _BudgetPPO(PPO):
    """PPO whose schedules also count wall time against a budget.

    SB3 computes ``progress_remaining = 1 - steps done / steps``; here it is
    ``1 - max(steps done / steps, seconds / max_seconds)``, so an annealed
    learning rate and clip range reach their end values when either budget
    runs out. Only training differs: the saved zip is an ordinary PPO model
    (``PPO.load`` builds a plain ``PPO`` from it)."""

    def _excluded_save_params(self) -> list[str]:
        return super()._excluded_save_params() + ["_budget_seconds", "_budget_t0"]

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        done = float(num_timesteps) / float(total_timesteps)
        budget = getattr(self, "_budget_seconds", None)
        if budget:
            done = max(done, (time.perf_counter() - self._budget_t0) / budget)
        self._current_progress_remaining = max(0.0, 1.0 - done)


def _schedule(start: float, kind: str, end: float = 0.0):
    """A constant or linearly annealed (``start`` -> ``end`` over training) SB3 schedule."""
    from stable_baselines3.common.utils import ConstantSchedule, LinearSchedule

    if kind == "constant":
        return ConstantSchedule(start)
    if kind == "linear":
        return LinearSchedule(start, end, 1.0)
    raise ValueError(f"schedule must be 'constant' or 'linear', not {kind!r}")


def _train_callback(env_id: str, total: int, every: int, episodes: int, log, max_seconds: float | None,
                    t0: float, progress: bool):
    from stable_baselines3.common.callbacks import BaseCallback

    from .. import make_vec
    from .behaviours import evaluate
    from .suite import EVAL_SEED

    venv = make_vec(env_id, num_envs=min(episodes, 256)) if every > 0 else None
    every = every if every > 0 else 1 << 62
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        desc = f"train (stops after {max_seconds / 60:g} min)" if max_seconds else "train"
        bar = tqdm(total=int(total), desc=desc, unit="step", unit_scale=True, dynamic_ncols=True,
                   file=sys.stderr)

        def say(line: str) -> None:  # log lines above the bar, through the caller's log
            with bar.external_write_mode():
                log(line)
    else:
        say = log

    class TrainCallback(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next = every
            self.curve: list[tuple[int, float, float]] = []
            self.stopped_by_budget = False

        def evaluate(self) -> None:
            actor = _ModelActor(self.model, venv.n_agents)
            ret = float(evaluate(venv, actor, episodes, EVAL_SEED).mean())
            seconds = time.perf_counter() - t0
            self.curve.append((int(self.num_timesteps), ret, seconds))
            say(f"{self.num_timesteps:>10} agent-steps  {seconds:7.0f}s  eval return {ret:.3f} ({episodes} episodes)")
            if bar is not None:
                bar.set_postfix_str(f"eval {ret:.2f}", refresh=False)

        def _on_step(self) -> bool:
            if bar is not None:
                bar.update(min(self.num_timesteps, bar.total) - bar.n)
            if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                self.stopped_by_budget = True
                say(f"time budget of {max_seconds:.0f}s reached at {self.num_timesteps} agent-steps")
                return False
            if self.num_timesteps >= self.next:
                self.next += every
                self.evaluate()
            return True

        def _on_training_end(self) -> None:
            # the final policy's point (skipped when the last periodic eval already saw it)
            if venv is not None and (not self.curve or self.curve[-1][0] != self.num_timesteps):
                self.evaluate()
            if bar is not None:
                bar.close()

    return TrainCallback()


class _ModelActor:
    def __init__(self, model, n: int):
        self.model, self.n = model, n

    def act_batch(self, obs, first):
        b = obs.shape[0]
        act, _ = self.model.predict(_one_hot_obs(np.asarray(obs), self.n), deterministic=True)
        return np.clip(act, -1.0, 1.0).astype(np.float32).reshape(b, self.n, -1)


# Defaults of `macflow-arena behave train` (measured on particle/spread: benchmarks/results/sb3_ppo_spread.md).
# 256 worlds x 64 steps = 49,152 agent-steps per rollout (12 minibatches of 4096, 10 epochs); the wide
# initial exploration (log std 0.5) and the annealing to 0 mattered most, with the number of worlds.
PPO_DEFAULTS = {
    "num_envs": 256, "n_steps": 64, "batch_size": 4096, "n_epochs": 10, "learning_rate": 2e-3,
    "lr_schedule": "linear", "clip_range": 0.2, "clip_schedule": "linear", "gamma": 0.95, "gae_lambda": 0.95,
    "net_arch": (64, 64), "activation": "tanh", "log_std_init": 0.5, "ent_coef": 0.0, "vf_coef": 0.5,
    "max_grad_norm": 0.5, "reward_scale": 1.0,
}


def train_ppo(env_id: str, out: str | os.PathLike, *, steps: int, seed: int = 0, eval_every: int = 0,
              eval_episodes: int = 256, max_seconds: float | None = None, progress: bool = False, log=print,
              **hyper) -> dict:
    """Train PPO (parameter sharing) for ``steps`` agent-steps and save ``out`` (.zip) + its ``.json`` card.

    ``hyper`` overrides ``PPO_DEFAULTS`` (num_envs: worlds stepped together;
    ``lr_schedule``/``clip_schedule``: "constant" or "linear" (annealed to 0
    when the step or the time budget runs out); ``reward_scale`` multiplies
    the rewards PPO sees, not the logged returns). ``eval_every`` > 0 logs
    the deterministic policy's mean return on held-out seeds every that many
    agent-steps and at the end (the learning curve goes into the card).
    ``max_seconds`` stops training after that much wall time (the model is
    saved). ``progress`` shows a progress bar on stderr."""
    from .. import make_vec
    from ..registry import resolve
    from ..spec import file_sha256

    unknown = set(hyper) - set(PPO_DEFAULTS)
    if unknown:
        raise TypeError(f"train_ppo: unknown hyperparameters {sorted(unknown)}")
    hp = {**PPO_DEFAULTS, **hyper}
    hp["net_arch"] = [int(h) for h in hp["net_arch"]]
    if hp["activation"] not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, not {hp['activation']!r}")
    out = Path(out).expanduser()
    if out.suffix != ".zip":
        out = out.with_suffix(".zip")
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # small MLPs: one thread is as fast, and never spins against other work
    venv = make_vec(env_id, num_envs=hp["num_envs"])
    vec = SharedAgentVecEnv(venv, seed=seed, reward_scale=hp["reward_scale"])
    model = _BudgetPPO(
        "MlpPolicy", vec, n_steps=hp["n_steps"], batch_size=min(hp["batch_size"], hp["n_steps"] * vec.num_envs),
        n_epochs=hp["n_epochs"], learning_rate=_schedule(hp["learning_rate"], hp["lr_schedule"]),
        clip_range=_schedule(hp["clip_range"], hp["clip_schedule"]), gamma=hp["gamma"],
        gae_lambda=hp["gae_lambda"], ent_coef=hp["ent_coef"], vf_coef=hp["vf_coef"],
        max_grad_norm=hp["max_grad_norm"],
        policy_kwargs={"net_arch": hp["net_arch"], "log_std_init": hp["log_std_init"],
                       "activation_fn": _ACTIVATIONS[hp["activation"]]},
        seed=seed, device="cpu", verbose=0)
    t = time.perf_counter()
    model._budget_seconds, model._budget_t0 = max_seconds, t
    callback = _train_callback(env_id, steps, eval_every, eval_episodes, log, max_seconds, t, progress)
    model.learn(total_timesteps=int(steps), callback=callback)
    seconds = time.perf_counter() - t
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.zip")
    try:
        model.save(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    entry = resolve(env_id)
    card = {
        "format": "macflow-arena-sb3-behaviour", "algorithm": "PPO", "parameter_sharing": True,
        "agent_id": "one-hot appended", "env_id": entry.id, "scenario_sha256": file_sha256(entry.path),
        "n_agents": venv.n_agents, "obs_dim": venv.obs_dim, "action_shape": list(venv.action_space.shape),
        "agent_steps": int(model.num_timesteps), "train_seconds": seconds, "seed": seed,
        "num_envs": hp["num_envs"], "max_seconds": max_seconds, "stopped_by_budget": callback.stopped_by_budget,
        "learning_curve": [list(c) for c in callback.curve],
        "hyperparameters": hp,
    }
    _write_json(out.with_suffix(".json"), card)
    log(f"trained PPO on {entry.id}: {model.num_timesteps} agent-steps in {seconds:.0f}s -> {out}")
    return card


def _write_json(path: Path, obj: Mapping) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


def read_card(model_path: str | os.PathLike) -> dict:
    p = Path(model_path).expanduser()
    side = p.with_suffix(".json")
    if not side.is_file():
        raise FileNotFoundError(f"{side} (the model's card) is missing; models come from `macflow-arena behave train`")
    return json.loads(side.read_text())


def load_ppo(model_path: str | os.PathLike, venv=None) -> tuple["PPO", dict]:
    """Load a saved model through ``PPO.load`` without unpickling anything; check it fits ``venv``."""
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no SB3 model at {path}")
    card = read_card(path)
    if venv is not None:
        want = (venv.n_agents, venv.obs_dim, list(venv.action_space.shape))
        got = (card["n_agents"], card["obs_dim"], card["action_shape"])
        if want != got or card["env_id"] != venv.env_id:
            raise ValueError(f"{path} was trained on {card['env_id']} (agents, obs dim, action shape {got}); "
                             f"{venv.env_id} has {want}")
    obs_space = spaces.Box(-np.inf, np.inf, shape=(card["obs_dim"] + card["n_agents"],), dtype=np.float32)
    act_space = spaces.Box(-1.0, 1.0, shape=tuple(card["action_shape"]), dtype=np.float32)
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read("data"))
    from stable_baselines3.common.policies import ActorCriticPolicy

    hp = card.get("hyperparameters", {})
    policy_kwargs = {"net_arch": list(hp.get("net_arch", (64, 64))), "log_std_init": hp.get("log_std_init", 0.0),
                     "activation_fn": _ACTIVATIONS[hp.get("activation", "tanh")]}
    safe = {"observation_space": obs_space, "action_space": act_space, "policy_class": ActorCriticPolicy,
            "lr_schedule": lambda _: 0.0, "learning_rate": 0.0, "clip_range": lambda _: 0.2,
            "policy_kwargs": policy_kwargs}
    custom = {k: safe.get(k) for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v}
    model = PPO.load(path, device="cpu", custom_objects=custom)
    return model, card


class SB3Actor:
    """A saved PPO model as a batched actor (``act_batch(obs [B, N, D], first)``)."""

    def __init__(self, venv, model_path: str | os.PathLike, deterministic: bool = True):
        self.model, self.card = load_ppo(model_path, venv)
        self.n = venv.n_agents
        self.deterministic = deterministic
        self.path = str(model_path)
        self.name = f"sb3:{Path(model_path).stem}"

    def act_batch(self, obs, first):
        b = obs.shape[0]
        act, _ = self.model.predict(_one_hot_obs(np.asarray(obs), self.n), deterministic=self.deterministic)
        return np.clip(act, -1.0, 1.0).astype(np.float32).reshape(b, self.n, -1)

    def describe(self) -> dict:
        from ..spec import file_sha256

        return {"name": "sb3", "model": self.path, "model_sha256": file_sha256(Path(self.path)),
                "algorithm": self.card.get("algorithm"), "agent_steps": self.card.get("agent_steps"),
                "deterministic": self.deterministic}


class SB3Policy:
    """A saved PPO model behind the ``Policy`` protocol: ``act(obs_by_agent) -> action_by_agent``."""

    def __init__(self, env, model_path: str | os.PathLike, deterministic: bool = True):
        base = getattr(env, "unwrapped", env)
        self.agents = list(base.possible_agents)
        self.model, self.card = load_ppo(model_path)
        if self.card["env_id"] != getattr(base, "env_id", None) or self.card["n_agents"] != len(self.agents):
            raise ValueError(f"{model_path} was trained on {self.card['env_id']} with {self.card['n_agents']} agents, "
                             f"not {getattr(base, 'env_id', base)} with {len(self.agents)}")
        self.dim = self.card["obs_dim"]
        self.deterministic = deterministic
        self.name = f"sb3:{Path(model_path).stem}"

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        agents = list(obs)
        if not agents:
            return {}
        n = len(self.agents)
        rows = np.zeros((len(agents), self.dim + n), dtype=np.float32)
        for j, a in enumerate(agents):
            o = np.asarray(obs[a], dtype=np.float32).reshape(-1)
            rows[j, : o.size] = o
            rows[j, self.dim + self.agents.index(a)] = 1.0
        act, _ = self.model.predict(rows, deterministic=self.deterministic)
        act = np.clip(act, -1.0, 1.0).astype(np.float32)
        return {a: act[j] for j, a in enumerate(agents)}
