"""Paired comparison of two teams (or two groups of training seeds) on the same evaluation episodes.

Two scores from independent episodes differ by the episodes' luck as much as by the teams: a
tag episode's return has a standard deviation near 90 normalized points, so one 256-episode
score is uncertain by about 14. Played on the same held-out seeds (the same start states and
env randomness until the teams' actions part), most of that luck is shared: the difference of
each episode's returns carries far less of it (common random numbers). ``evaluate(...,
keep_returns=True)`` gives the per-episode returns in seed order; the functions here turn two
of them, or two groups of them, into a difference with a 95% CI."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

_SAME = ("env_id", "seed", "episodes", "num_envs")


class PairingError(ValueError):
    """The two evaluations did not play the same episodes."""


def _returns(res: Mapping[str, Any], what: str) -> np.ndarray:
    if "episode_returns" not in res:
        raise PairingError(f"{what} has no per-episode returns: evaluate it with keep_returns=True")
    return np.asarray(res["episode_returns"], dtype=np.float64)


def check_paired(results: Sequence[Mapping[str, Any]]) -> None:
    """Raise PairingError unless every evaluation played the same env, seeds and episode count."""
    first = results[0]
    for i, r in enumerate(results[1:], 1):
        for k in _SAME:
            if r.get(k) != first.get(k):
                raise PairingError(f"evaluations 0 and {i} did not play the same episodes: {k} is "
                                   f"{first.get(k)!r} against {r.get(k)!r} (evaluate both with the same env, "
                                   "--episodes and --seed)")


def _scale(reference: Mapping[str, float] | None) -> float | None:
    """Normalized points per return point (a difference of returns scales, it does not shift)."""
    if not reference or "random" not in reference or "expert" not in reference:
        return None
    from .evaluate import normalized

    try:
        return float(normalized(1.0, reference) - normalized(0.0, reference))
    except ValueError:  # expert <= random: no normalized scale
        return None


def group_difference(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]], *, n_boot: int = 4000,
                     level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Mean return of group ``a`` minus group ``b`` (each a list of evaluations with per-episode
    returns, one per training seed, all on the same episodes).

    ``ci95``: bootstrap that resamples the training seeds of each group and the episodes (the same
    episodes for both groups, which is the pairing), so it holds both sources of chance.
    ``ci95_episodes``: the seeds held fixed, episodes resampled: how precisely these trained
    policies were told apart. Normalized fields use the first evaluation's reference returns."""
    if not a or not b:
        raise PairingError("each group needs at least one evaluation")
    check_paired([*a, *b])
    A = np.stack([_returns(r, f"group a, evaluation {i}") for i, r in enumerate(a)])  # [Sa, n]
    B = np.stack([_returns(r, f"group b, evaluation {i}") for i, r in enumerate(b)])
    n = A.shape[1]
    d = A.mean(0) - B.mean(0)  # per-episode difference of the groups' means
    rng = np.random.default_rng(seed)
    j = rng.integers(0, n, size=(n_boot, n))
    ep = d[j].mean(1)
    ia = rng.integers(0, A.shape[0], size=(n_boot, A.shape[0]))
    ib = rng.integers(0, B.shape[0], size=(n_boot, B.shape[0]))
    both = np.empty(n_boot)
    for t in range(n_boot):  # small arrays: seeds x episodes
        both[t] = A[ia[t]][:, j[t]].mean() - B[ib[t]][:, j[t]].mean()
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    out: dict[str, Any] = {
        "env_id": a[0].get("env_id"), "episodes": n, "seeds_a": A.shape[0], "seeds_b": B.shape[0],
        "mean_a": float(A.mean()), "mean_b": float(B.mean()), "difference": float(d.mean()),
        "ci95": [float(x) for x in np.quantile(both, q)],
        "ci95_episodes": [float(x) for x in np.quantile(ep, q)],
        "episodes_differing": int((np.abs(d) > 1e-9).sum()),
    }
    s = _scale(a[0].get("reference_returns"))
    if s is not None:
        out["normalized_difference"] = out["difference"] * s
        out["normalized_ci95"] = [x * s for x in out["ci95"]]
        out["normalized_ci95_episodes"] = [x * s for x in out["ci95_episodes"]]
    return out


def paired_difference(a: Mapping[str, Any], b: Mapping[str, Any], **kw) -> dict[str, Any]:
    """``a`` minus ``b``, two single evaluations on the same episodes (with one seed a side,
    ``ci95`` resamples the episodes only and equals ``ci95_episodes``)."""
    return group_difference([a], [b], **kw)
