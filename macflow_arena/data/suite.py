"""Quality levels, reference returns, and recording datasets from a VectorEnv.

Quality levels (OMAR's MPE sets / OG-MARL's Good-Medium-Poor-Replay):

* ``expert``: the scripted expert (or a given behaviour) without noise;
* ``medium``: the scripted expert with epsilon-random actions, epsilon
  calibrated by bisection so the mean normalized return is about 50
  (half the expert's);
* ``medium-replay``: what a learner produces until it reaches medium, made
  here with a noise schedule (not a learner's trajectory): episode k of K uses
  epsilon from 1.0 (random) down linearly to the medium epsilon;
* ``random``: uniform random actions;
* ``human`` (``play --record``) and ``mixed`` (anything else) are labels only.

Reference returns (random and expert) are measured on held-out seeds
(``EVAL_SEED``) and stored in every dataset's manifest, for normalized scores.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .behaviours import evaluate, make_actor
from .card import normalized_score
from .vector_recorder import RecordResult, record_vector, vector_header
from .writer import DatasetWriter

QUALITIES = ("expert", "medium", "medium-replay", "random", "human", "mixed")
SUITE = ("expert", "medium", "medium-replay", "random")
EVAL_SEED = 1_000_000_000  # reference returns and calibration use seeds from here (held out)
SEED_STRIDE = 100_000_000  # default recording seed of suite level i: i * SEED_STRIDE
REFERENCE_PROTOCOL = "mean return over 1024 episodes, seeds from 1000000000; random = uniform actions, expert = scripted"


def reference_returns(env_id: str, episodes: int = 1024, num_envs: int = 1024, seed: int = EVAL_SEED) -> dict:
    """Mean return of the random policy and of the scripted expert on held-out seeds."""
    from .. import make_vec

    venv = make_vec(env_id, num_envs=min(num_envs, episodes))
    out = {}
    for name in ("random", "expert"):
        beh = {"name": "random"} if name == "random" else {"name": "scripted"}
        out[name] = float(evaluate(venv, make_actor(venv, beh, seed=seed), episodes, seed).mean())
    return out


def calibrate_epsilon(env_id: str, refs: Mapping[str, float], target: float = 50.0, episodes: int = 1024,
                      iters: int = 10, seed: int = EVAL_SEED + 1) -> tuple[float, float]:
    """Epsilon for which the scripted expert's mean normalized return is about ``target``.

    Returns (epsilon, the normalized return measured at it)."""
    from .. import make_vec

    venv = make_vec(env_id, num_envs=min(1024, episodes))
    lo, hi = 0.0, 1.0
    best = (0.5, float("nan"))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        actor = make_actor(venv, {"name": "scripted", "epsilon": mid}, seed=seed)
        score = float(normalized_score(evaluate(venv, actor, episodes, seed).mean(), refs))
        best = (mid, score)
        if score > target:
            lo = mid
        else:
            hi = mid
    return best


def behaviour_for(quality: str, *, epsilon_medium: float | None = None, behaviour: Mapping | None = None) -> dict:
    """The behaviour dict of a standard quality level."""
    if quality == "random":
        return {"name": "random"}
    base = dict(behaviour or {"name": "scripted"})
    if quality == "expert":
        return base
    if epsilon_medium is None:
        raise ValueError(f"quality {quality!r} needs a calibrated epsilon")
    if quality == "medium":
        return {**base, "epsilon": float(epsilon_medium)}
    if quality == "medium-replay":
        return {**base, "epsilon_schedule": [1.0, float(epsilon_medium)]}
    raise ValueError(f"no standard behaviour for quality {quality!r}; pass --behavior and its knobs")


def record_dataset(env_id: str, path: str | os.PathLike, *, behaviour: Mapping[str, Any], quality: str | None,
                   episodes: int, seed: int | None = 0, num_envs: int = 1024, episodes_per_shard: int | None = None,
                   reference: Mapping | None = None, mode: str = "create", record_state: bool = True,
                   info_keys=(), progress: Callable[[int], None] | None = None, extra_config: Mapping | None = None,
                   reseed: bool = False, allow_repeat_seeds: bool = False) -> RecordResult:
    """Record ``episodes`` episodes of ``behaviour`` on ``env_id`` (batched) into ``path``.

    Appending to an existing dataset continues the seeds after its last committed episode when
    ``seed`` is None, and refuses a ``seed`` whose episodes it already holds (``data.seeds``)."""
    from .. import make_vec

    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    b = max(1, min(num_envs, episodes))
    if mode in ("append", "auto"):
        from .seeds import append_seed

        seed = append_seed(path, seed, episodes + b, allow_repeat=allow_repeat_seeds)
    elif seed is None:
        seed = 0
    venv = make_vec(env_id, num_envs=b)
    beh = dict(behaviour)
    schedule = beh.pop("epsilon_schedule", None)
    actor = make_actor(venv, beh, seed=seed)
    on_reset = None
    if schedule is not None:
        start, end = (float(x) for x in schedule)
        actor.epsilon = np.full(b, start)

        def on_reset(worlds: np.ndarray, k: np.ndarray) -> None:
            frac = np.minimum(k / max(episodes - 1, 1), 1.0)
            actor.epsilon[worlds] = start + (end - start) * frac

    eps = episodes_per_shard or max(b, 100)
    description = {**actor.describe(), "seed": seed}
    if schedule is not None:
        description["epsilon_schedule"] = list(schedule)
        description["epsilon"] = "linear schedule over episodes"
    header = vector_header(
        venv, record_state=record_state, info_keys=info_keys, behaviour=description, quality=quality,
        reference_returns=dict(reference or {}),
        config={"recorder": "record_vector", "num_envs": b, "episodes": episodes, "seed": seed, "reseed": reseed,
                "episodes_per_shard": eps, "reference_protocol": REFERENCE_PROTOCOL, **(extra_config or {})},
    )
    writer = DatasetWriter(Path(path), header, episodes_per_shard=eps, mode=mode)
    try:
        res = record_vector(venv, actor, writer, episodes=episodes, seed=seed, policy_names=actor.name,
                            progress=progress, on_reset=on_reset, reseed=reseed)
    except BaseException:
        writer.close()  # what was finished is committed; the error still propagates
        raise
    writer.close()
    return res


def record_suite(env_id: str, root: str | os.PathLike, *, episodes: int, seed: int = 0, num_envs: int = 1024,
                 levels=SUITE, mode: str = "create", progress_factory: Callable[[str, int], Any] | None = None,
                 log: Callable[[str], None] = print, eval_episodes: int = 1024) -> dict[str, Path]:
    """The standard levels of ``env_id`` under ``root/<env>-<level>``; reference returns measured once
    (and the medium epsilon calibrated) over ``eval_episodes`` held-out episodes."""
    from .paths import default_name

    refs = reference_returns(env_id, episodes=eval_episodes)
    log(f"reference returns on {env_id}: random {refs['random']:.3f}, expert {refs['expert']:.3f}")
    eps = None
    if any(q in ("medium", "medium-replay") for q in levels):
        eps, score = calibrate_epsilon(env_id, refs, episodes=eval_episodes)
        log(f"medium: epsilon {eps:.4f} gives normalized return {score:.1f}")
    out = {}
    for i, q in enumerate(levels):
        path = Path(root) / default_name(env_id, q)
        bar = progress_factory(q, episodes) if progress_factory else None
        res = record_dataset(env_id, path, behaviour=behaviour_for(q, epsilon_medium=eps), quality=q,
                             episodes=episodes, seed=None if mode == "append" else seed + i * SEED_STRIDE,
                             num_envs=num_envs, reference=refs,
                             mode=mode, progress=bar.update if bar is not None else None,
                             extra_config={"suite": list(levels), "medium_epsilon": eps})
        if bar is not None:
            bar.close()
        score = float(normalized_score(np.mean(res.returns), refs))
        log(f"{q:>13}: {len(res.episode_ids)} episodes, mean return {np.mean(res.returns):.3f} "
            f"(normalized {score:.1f}) -> {path}")
        out[q] = path
    return out
