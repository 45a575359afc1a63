"""Evaluation on the batched VectorEnv with an algorithm's decentralized ``act``.

``evaluate(algo, env_id, episodes=..., seed=...)`` runs at least ``episodes``
episodes (rounds of ``num_envs`` worlds, world b of round k seeded
``seed + k * num_envs + b``), respects action masks (skirmish), and reports the
mean return with a 95% bootstrap CI, the normalized score
``100 * (R - R_random) / (R_expert - R_random)`` from the dataset manifest's
reference returns (expert <= random raises), the win rate (skirmish:
``battle_won``) and the coverage success rate (cover: ``covered`` at the last step).

``algo`` is a torch ``Algorithm`` or a ``NumpyActor`` (``teams/numpy_act.py``, a
team loaded without torch: ``macflow-arena eval TEAM``); torch is imported only
for the former.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

EVAL_SEED = 2_000_000_000  # held out from recording (0.., suite levels) and references (1e9..)


def bootstrap_ci(x, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def normalized(ret, reference: Mapping[str, float]):
    """100 * (R - R_random) / (R_expert - R_random); raises ValueError if expert <= random."""
    from ..data.card import normalized_score

    return normalized_score(ret, reference)


def _split_obs(obs):
    if isinstance(obs, Mapping):
        return np.asarray(obs["observation"], dtype=np.float32), np.asarray(obs["action_mask"]) != 0
    return np.asarray(obs, dtype=np.float32), None


def _actor(algo):
    """(reseed(seed) -> generator, act(obs, gen, mask) -> numpy actions) for a torch or a numpy algorithm."""
    if getattr(algo, "backend", "torch") == "numpy":
        return np.random.default_rng, algo.act
    import torch

    gen = torch.Generator(device=algo.device)

    def act(o, g, m):
        with torch.no_grad():
            a = algo.act(torch.from_numpy(o).to(algo.device), g, None if m is None else torch.from_numpy(m).to(algo.device))
        return a.cpu().numpy()

    return gen.manual_seed, act


def rollout_returns(algo, venv, episodes: int, seed: int) -> dict[str, np.ndarray]:
    """Returns (and per-episode metrics) of ``episodes`` episodes, the first of each world per round."""
    reseed, act = _actor(algo)
    reset_memory = getattr(algo, "reset_memory", lambda: None)
    b = venv.num_envs
    rets: list[float] = []
    won: list[float] = []
    covered: list[float] = []
    illegal = 0
    rnd = 0
    while len(rets) < episodes:
        s = seed + rnd * b
        gen = reseed(s)  # the agreed seed of the round (shared noise needs one; nothing is communicated)
        reset_memory()  # every world starts an episode: a recurrent policy's state restarts
        obs, _ = venv.reset(seed=s)
        ret = np.zeros(b)
        live = np.ones((b, venv.n_agents), dtype=bool)
        finished = np.zeros(b, dtype=bool)
        w = np.full(b, np.nan)
        c = np.full(b, np.nan)
        while not finished.all():
            o, m = _split_obs(obs)
            a = act(o, gen, m)
            obs, rew, term, trunc, info = venv.step(a)
            done = np.asarray(info.get("done", np.zeros(b, dtype=bool)), dtype=bool)
            if "active" in info:
                live = np.asarray(info["active"], dtype=bool)
            step_r = np.where(live, rew, 0.0).sum(-1) / np.maximum(live.sum(-1), 1)
            ret += np.where(finished, 0.0, step_r)
            live = live & ~np.asarray(term, dtype=bool)
            new = done & ~finished
            metrics = info.get("metrics") or {}
            if new.any():
                if "illegal_actions" in info:  # masked actions the env replaced this episode (must stay 0)
                    illegal += int(np.asarray(info["illegal_actions"])[new].sum())
                if "battle_won" in metrics:
                    w[new] = np.asarray(metrics["battle_won"], dtype=np.float64)[new]
                if "covered" in metrics:
                    c[new] = np.asarray(metrics["covered"], dtype=np.float64)[new]
            finished |= done
            live[done] = True
        rets += ret.tolist()
        won += w.tolist()
        covered += c.tolist()
        rnd += 1
    return {"returns": np.asarray(rets[:episodes]), "won": np.asarray(won[:episodes]),
            "covered": np.asarray(covered[:episodes]), "illegal_actions": illegal}


def evaluate(algo, env_id: str, *, episodes: int = 32, seed: int = EVAL_SEED, reference: Mapping | None = None,
             num_envs: int = 64, keep_returns: bool = False) -> dict[str, Any]:
    """Score ``algo`` on ``env_id``: mean return, 95% bootstrap CI, normalized score, win / coverage rate.
    ``keep_returns`` adds each episode's return (``episode_returns``, in seed order: two teams scored with
    the same ``episodes`` and ``seed`` played the same start states, for paired comparisons)."""
    from .. import make_vec

    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    venv = make_vec(env_id, min(num_envs, episodes))
    spec = algo.spec
    if venv.n_agents != spec.n_agents or venv.obs_dim != spec.obs_dim:
        raise ValueError(f"{env_id} has {venv.n_agents} agents with obs_dim {venv.obs_dim}; the algorithm was built "
                         f"for {spec.n_agents} agents with obs_dim {spec.obs_dim}")
    nets = getattr(algo, "nets", None)
    was_training = getattr(nets, "training", False)
    if was_training:
        nets.eval()
    try:
        res = rollout_returns(algo, venv, episodes, seed)
    finally:
        if was_training:
            nets.train(True)
        venv.close()
    r = res["returns"]
    lo, hi = bootstrap_ci(r, seed=seed % (2**32))
    out: dict[str, Any] = {"env_id": env_id, "episodes": int(r.size), "seed": seed, "return_mean": float(r.mean()),
                           "return_ci95": [lo, hi], "return_std": float(r.std())}
    if reference and "random" in reference and "expert" in reference:
        out["normalized_score"] = float(normalized(r.mean(), reference))
        out["normalized_ci95"] = [float(normalized(lo, reference)), float(normalized(hi, reference))]
        out["reference_returns"] = {"random": float(reference["random"]), "expert": float(reference["expert"])}
    if np.isfinite(res["won"]).any():
        out["win_rate"] = float(np.nanmean(res["won"]))
        out["illegal_actions"] = res["illegal_actions"]
    if np.isfinite(res["covered"]).any():
        out["coverage_success"] = float(np.nanmean(res["covered"]))
    if keep_returns:
        out["episode_returns"] = r.tolist()
        out["num_envs"] = min(num_envs, episodes)
    return out
