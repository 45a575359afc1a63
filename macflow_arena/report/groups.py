"""Runs of one algorithm on one env and dataset (different seeds) aggregated into one point.

The score summary is the team card's (``teams.card.summarize``): several runs give the mean
normalized score with a 95% CI over training seeds, one run its CI over evaluation episodes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .runs import RunResult


@dataclass(frozen=True)
class Group:
    label: str  # the algorithm (plus the dataset when one algorithm appears on several)
    algo: str
    env: str
    dataset: str
    runs: tuple[RunResult, ...]
    summary: dict  # teams.card.summarize of the runs' evaluations
    ms_per_decision: float  # median over runs

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.runs)

    @property
    def normalized(self) -> float:
        return float(self.summary["normalized_score"])

    @property
    def ci(self) -> tuple[float, float]:
        lo, hi = self.summary["normalized_ci95"]
        return float(lo), float(hi)

    @property
    def ci_over(self) -> str:
        return self.summary["ci_over"]

    @property
    def win_rate(self) -> float | None:
        return self.summary.get("win_rate")

    @property
    def coverage(self) -> float | None:
        return self.summary.get("coverage_success")


def aggregate(results: list[RunResult]) -> list[Group]:
    """One group per (algorithm, env, dataset), in the order the runs were given."""
    from ..teams.card import summarize

    keyed: dict[tuple[str, str, str], list[RunResult]] = {}
    for r in results:
        keyed.setdefault((r.algo, r.env, r.dataset), []).append(r)
    algos = [k[0] for k in keyed]
    return [
        Group(label=algo if algos.count(algo) == 1 else f"{algo} ({dataset})", algo=algo, env=env, dataset=dataset,
              runs=tuple(runs), summary=summarize([r.eval for r in runs]),
              ms_per_decision=float(statistics.median(r.ms_per_decision for r in runs)))
        for (algo, env, dataset), runs in keyed.items()
    ]
