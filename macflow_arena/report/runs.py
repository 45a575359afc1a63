"""One training run, scored: normalized score (fresh evaluation or the last ``eval.jsonl`` line)
and the time per decision of its algorithm at batch 1 on the CPU."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReportError(ValueError):
    """A run cannot be reported; the message names the run and the fix."""


@dataclass(frozen=True)
class RunResult:
    name: str  # run folder name
    path: Path
    algo: str
    env: str
    dataset: str  # dataset name
    seed: int
    eval: dict  # the evaluation (train.evaluate.evaluate's dict, plus "step"), with a normalized score
    source: str  # "evaluated" or "eval.jsonl"
    ms_per_decision: float  # median time of one act() for the whole team, batch 1, CPU, one thread
    execution: dict = field(default_factory=dict)  # execution options applied (report --set)

    @property
    def normalized(self) -> float:
        return float(self.eval["normalized_score"])


def run_folder(run: str | os.PathLike) -> tuple[Path, dict]:
    """The run's folder and its config.json (``train.config.read_run_config``); ReportError naming the fix."""
    from ..train.config import RunConfigError, read_run_config

    try:
        return read_run_config(run)
    except RunConfigError as e:
        raise ReportError(str(e)) from None


def parse_execution(items: list[str], runs: list[str | os.PathLike]) -> dict[str, dict[str, Any]]:
    """``--set NAME=VALUE`` items -> typed execution options per algorithm of ``runs``: every run gets
    ``NAME=VALUE``, only runs of ALGO get ``ALGO:NAME=VALUE``. ReportError naming the algorithm's
    execution options (``Algorithm.exec_fields``) for a name one of the runs' algorithms does not
    have, for an ALGO none of the runs uses, or for a bad value; reads only the runs' config.json."""
    import dataclasses

    from ..algos.registry import get
    from ..train.config import parse_overrides

    algos: dict[str, str] = {}  # algo -> the first run using it
    for run in runs:
        algos.setdefault(run_folder(run)[1]["algo"], str(run))
    scoped: dict[str | None, list[str]] = {}
    for item in items:
        head = item.split("=", 1)[0]
        algo, _, rest = item.partition(":") if ":" in head else (None, "", item)
        if algo is not None and algo.strip() not in algos:
            raise ReportError(f"--set {item}: none of the runs is {algo.strip()} (their algorithms: "
                              f"{', '.join(algos)})")
        scoped.setdefault(None if algo is None else algo.strip(), []).append(rest)
    out: dict[str, dict[str, Any]] = {}
    for algo, run in algos.items():
        try:
            cls = get(algo)
        except KeyError as e:
            raise ReportError(f"{run}: {e.args[0]}") from None
        known = ", ".join(cls.exec_fields) or "none"
        mine = scoped.get(None, []) + scoped.get(algo, [])
        for item in mine:
            name = item.split("=", 1)[0].strip().replace("-", "_")
            if "=" in item and name not in cls.exec_fields:
                raise ReportError(f"--set {name}: not an execution option of {algo} (run {run}); {algo}'s "
                                  f"execution options: {known}. --set NAME=VALUE applies to every run; "
                                  f"--set {algo}:NAME=VALUE only to {algo} runs")
        try:
            values = parse_overrides(mine, cls.Config)
            dataclasses.replace(cls.Config(), **values)  # the config's own checks (e.g. exec_noise >= 0)
        except (ValueError, TypeError) as e:
            raise ReportError(f"{algo} (run {run}): {e}") from None
        out[algo] = values
    return out


def last_eval(path: Path, run: str) -> dict:
    """The last line of ``eval.jsonl``."""
    lines = []
    f = path / "eval.jsonl"
    if f.is_file():
        lines = [ln for ln in f.read_text().splitlines() if ln.strip()]
    if not lines:
        raise ReportError(f"{run}: no evaluation in {f}; pass --episodes N (N > 0) to evaluate its latest checkpoint")
    try:
        from ..integrity.json_safe import loads

        return loads(lines[-1], str(f))
    except ValueError:
        raise ReportError(f"{f}: last line is not JSON; pass --episodes N (N > 0) to evaluate afresh") from None


def decision_ms(path: Path, env_id: str, execution: dict[str, Any] | None = None) -> float:
    """Median ms of one batch-1 ``act`` of the run's latest checkpoint on the CPU (``teams.latency``),
    with the execution options ``execution`` applied."""
    from ..algos.checkpoint import load_checkpoint
    from ..teams.latency import measure_latency
    from ..train.trainer import latest_checkpoint

    algo = load_checkpoint(latest_checkpoint(path), device="cpu").algo
    algo.set_execution(**(execution or {}))
    return measure_latency(algo, env_id)["median_ms"]


def score_run(run: str | os.PathLike, episodes: int, execution: dict[str, Any] | None = None) -> RunResult:
    """Score ``run``: evaluate its latest checkpoint on ``episodes`` episodes (0: reuse eval.jsonl),
    with the execution options ``execution`` (``Algorithm.exec_fields``; they need ``episodes > 0``)."""
    from ..algos.checkpoint import CheckpointError
    from ..train.trainer import TrainError, evaluate_run

    execution = dict(execution or {})
    if execution and episodes < 1:
        raise ReportError(f"{run}: execution options {execution} need a fresh evaluation; pass --episodes N (N > 0)")
    path, cfg = run_folder(run)
    env = cfg["train"]["env"]
    try:
        if episodes > 0:
            res = evaluate_run(path, episodes=episodes, execution=execution or None)
        else:
            res = last_eval(path, str(run))
        ms = decision_ms(path, env, execution)
    except (TrainError, CheckpointError, ValueError) as e:
        raise ReportError(str(e)) from None
    if "normalized_score" not in res:
        raise ReportError(f"{run}: its evaluation has no normalized score (dataset {cfg['dataset']['name']} has no "
                          "reference returns); record the dataset without --no-reference and retrain")
    return RunResult(name=path.name, path=path, algo=cfg["algo"], env=env, dataset=cfg["dataset"]["name"],
                     seed=int(cfg["train"]["seed"]), eval=res, source="evaluated" if episodes > 0 else "eval.jsonl",
                     ms_per_decision=ms, execution=execution)
