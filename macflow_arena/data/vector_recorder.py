"""Batched recording from a VectorEnv (arrays ``[B, N, ...]``, same-step auto-reset).

``record_vector`` steps all B worlds with a batched actor
(``act_batch(obs, first) -> actions``), keeps each world's episode in
preallocated buffers ``[B, Tmax + 1, N, ...]``, and hands finished episodes to
the writer in blocks. World b is seeded once (``seed + b``); its later episodes
come from the VectorEnv's same-step auto-reset, which continues the world's RNG.
Each episode stores the world's seed and ``reset_index`` (resets since that
seed): ``env.reset(seed=seed)`` followed by ``reset_index`` seedless
``env.reset()`` calls recreates its start (our envs draw random numbers only at
reset). ``reseed=True`` gives every episode its own seed instead (slower).

Alive agents: ``info["active"]`` [B, N] when the VectorEnv gives it (agents alive
at the start of the step); otherwise every agent is alive at reset and an agent
that terminates is not alive at later steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from gymnasium import spaces

from .blocks import EpisodeBlock, episode_returns
from .writer import DatasetWriter, make_header


def _obs_fields(obs) -> dict[str, np.ndarray]:
    if isinstance(obs, dict):
        out = {}
        for k, v in obs.items():
            out["obs" if k == "observation" else ("action_mask" if k == "action_mask" else f"obs.{k}")] = v
        return out
    return {"obs": obs}


def parallel_twin(venv):
    """A ParallelEnv of the same env id and scenario as ``venv`` (for its spaces)."""
    import dataclasses

    from ..registry import make

    pe = make(venv.env_id)
    spec = getattr(venv, "scenario", None)
    if spec is not None and getattr(pe, "scenario", None) != spec:
        overrides = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
                     if getattr(spec, f.name) != getattr(pe.scenario, f.name)}
        pe.close()
        pe = make(venv.env_id, **overrides)
    return pe


def vector_spaces(venv) -> tuple[dict, dict, spaces.Space | None]:
    """Per-agent observation and action spaces and the state space of a VectorEnv
    (those of the ParallelEnv twin, so batched and single recordings share a layout)."""
    pe = parallel_twin(venv)
    try:
        agents = list(venv.agents)
        obs = {a: pe.observation_space(a) for a in agents}
        act = {a: pe.action_space(a) for a in agents}
        st = getattr(pe, "state_space", None)
        return obs, act, st if isinstance(st, spaces.Space) else None
    finally:
        pe.close()


def vector_header(venv, *, record_state: bool = True, info_keys: Sequence[str] = (), **meta) -> dict:
    """A dataset header for recordings of ``venv`` (env id, scenario hash and config included)."""
    from ..registry import resolve
    from ..spec import file_sha256, spec_to_dict
    from ..envs.layout import header_entities
    from .recorder import jsonable

    obs, act, st = vector_spaces(venv)
    entry = resolve(venv.env_id)
    config = dict(meta.pop("config", {}) or {})
    spec = getattr(venv, "scenario", None)
    if spec is not None:
        config.setdefault("scenario", jsonable(spec_to_dict(spec)))
    return make_header(
        env_id=venv.env_id, scenario_sha256=file_sha256(entry.path), agents=list(venv.agents),
        observation_spaces=obs, action_spaces=act, state_space=st if record_state else None,
        info_keys=info_keys, config=jsonable(config), entities=header_entities(venv), **meta,
    )


@dataclass
class RecordResult:
    episode_ids: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0


def record_vector(venv, actor, writer: DatasetWriter, *, episodes: int, seed: int = 0,
                  policy_names: Sequence[str] | str = "unknown", human: Sequence[bool] | None = None,
                  info_keys: Sequence[str] | None = None, progress: Callable[[int], None] | None = None,
                  on_reset: Callable[[np.ndarray, np.ndarray], None] | None = None,
                  reseed: bool = False) -> RecordResult:
    """Record ``episodes`` episodes of ``actor`` on ``venv`` into ``writer`` (committed on ``writer.close()``).

    World b is seeded ``seed + b`` once; later episodes come from the VectorEnv's
    auto-reset (stored: that seed and ``reset_index``). With ``reseed=True``,
    whenever all worlds finish together the next round is reset with fresh seeds
    ``seed + r * B + b`` (every episode then replays from its own seed, at the
    cost of one extra reset per round). ``on_reset(worlds, k)`` is called when
    worlds start episodes number ``k`` (0, 1, ... in start order), e.g. to set a
    per-world epsilon. Returns the committed ids, their returns and the env steps.
    """
    t_start = time.perf_counter()
    b, n = venv.num_envs, venv.n_agents
    tmax = int(venv.max_cycles)
    layout = writer.layout
    info_keys = list(writer.header.get("info_keys", []) if info_keys is None else info_keys)
    names = np.array([policy_names] * n if isinstance(policy_names, str) else list(policy_names), dtype=str)
    human_row = np.zeros(n, dtype=bool) if human is None else np.asarray(human, dtype=bool)
    rec_state = "state" in layout
    seat_names = getattr(actor, "seat_names", None)

    bufs: dict[str, np.ndarray] = {}
    for name, f in layout.items():
        rows = tmax + 1 if f["align"] == "obs" else tmax
        lead = (b, rows) if not f.get("per_agent", True) else (b, rows, n)
        bufs[name] = np.zeros(lead + tuple(f["shape"]), dtype=f["dtype"])
    for name, dt in (("reward", np.float64), ("terminated", bool), ("truncated", bool), ("alive", bool)):
        bufs[name] = np.zeros((b, tmax, n), dtype=dt)
    for k in info_keys:
        bufs[f"info.{k}"] = np.zeros((b, tmax, n), dtype=np.float64)
    obs_names = [k for k, f in layout.items() if f["align"] == "obs"]

    result = RecordResult()
    ar = np.arange(b)
    started = b
    if on_reset:
        on_reset(ar, ar.copy())
    seeds = seed + ar.astype(np.int64)
    obs, _ = venv.reset(seed=seeds.tolist())
    rnd = 0
    reset_index = np.zeros(b, dtype=np.int64)
    t = np.zeros(b, dtype=np.int64)
    live = np.ones((b, n), dtype=bool)
    t_world = np.full(b, time.perf_counter())
    start_wall = np.full(b, time.time())
    for name, v in _obs_fields(obs).items():
        bufs[name][:, 0] = v
    if rec_state:
        bufs["state"][:, 0] = venv.state()
    kept = 0

    while kept < episodes:
        first = t == 0
        if hasattr(actor, "act_and_label"):
            actions, labels = actor.act_and_label(obs, first)
        else:
            actions = labels = actor.act_batch(obs, first)
        obs2, rew, term, trunc, info = venv.step(actions)
        same = bool((t == t[0]).all())
        idx = (slice(None), int(t[0])) if same else (ar, t)
        idx1 = (slice(None), int(t[0]) + 1) if same else (ar, t + 1)
        if "active" in info:
            live = np.asarray(info["active"], dtype=bool)
        term = term & live
        bufs["action"][idx] = labels
        bufs["reward"][idx] = rew
        bufs["terminated"][idx] = term
        bufs["truncated"][idx] = trunc & live & ~term
        bufs["alive"][idx] = live
        done = np.asarray(info["done"]) if "done" in info else (term | trunc | ~live).all(-1)
        any_done = bool(done.any())
        nxt = _obs_fields(obs2)
        final = _obs_fields(info["final_obs"]) if any_done and "final_obs" in info else None
        for name, v in nxt.items():
            if final is not None:
                v = np.where(done.reshape((b,) + (1,) * (v.ndim - 1)), final[name], v)
            bufs[name][idx1] = v
        if rec_state:
            if any_done and "final_state" not in info:
                raise RuntimeError(f"{venv.env_id}: VectorEnv gives no info['final_state']; record without state")
            if any_done and done.all():
                st = info["final_state"]
            else:
                st = venv.state()
                if any_done:
                    st = np.where(done[:, None], info["final_state"], st)
            bufs["state"][idx1] = st
        metrics = info.get("metrics", {})
        for k in info_keys:
            v = metrics.get(k, info.get(k))
            if v is not None:
                v = np.asarray(v, dtype=np.float64)
                bufs[f"info.{k}"][idx] = v[:, None] if v.ndim == 1 else v
        live = live & ~term
        t += 1
        result.steps += b
        if not any_done:
            obs = obs2
            continue
        fin = np.flatnonzero(done)
        now = time.perf_counter()
        take = fin[: episodes - kept]
        for length in np.unique(t[take]):
            sel = take[t[take] == length]
            data = {}
            for name, v in bufs.items():
                rows = length + 1 if name in obs_names else length
                data[name] = v[sel, :rows] if len(sel) < b else v[:, :rows].copy()
            data["seed"] = seeds[sel].copy()
            data["reset_index"] = reset_index[sel].copy()
            data["start_time"] = start_wall[sel].copy()
            data["wall_time"] = now - t_world[sel]
            data["interrupted"] = np.zeros(len(sel), dtype=bool)
            data["policy"] = seat_names(sel) if seat_names else np.broadcast_to(names, (len(sel), n)).copy()
            data["human"] = np.broadcast_to(human_row, (len(sel), n)).copy()
            result.episode_ids += writer.add(EpisodeBlock(int(length), data))
            result.returns += episode_returns(data["reward"], data["alive"]).tolist()
        kept += len(take)
        if progress:
            progress(len(take))
        if kept >= episodes:
            break
        if on_reset:
            on_reset(fin, started + np.arange(len(fin)))
        started += len(fin)
        if reseed and done.all():
            rnd += 1
            seeds = seed + rnd * b + ar.astype(np.int64)
            obs, _ = venv.reset(seed=seeds.tolist())
            reset_index[:] = 0
            if rec_state:
                bufs["state"][:, 0] = venv.state()
        else:
            obs = obs2
            reset_index[fin] += 1
            if rec_state:
                bufs["state"][fin, 0] = venv.state()[fin]
        t[fin] = 0
        live[fin] = True
        t_world[fin] = time.perf_counter()
        start_wall[fin] = time.time()
        for name, v in _obs_fields(obs).items():
            bufs[name][fin, 0] = v[fin]
    result.seconds = time.perf_counter() - t_start
    return result
