"""One training run, scored: normalized score (fresh evaluation or the last ``eval.jsonl`` line)
and the time per decision of its algorithm at batch 1 on the CPU."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


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

    @property
    def normalized(self) -> float:
        return float(self.eval["normalized_score"])


def run_folder(run: str | os.PathLike) -> tuple[Path, dict]:
    """The run's folder and its config.json; ReportError naming the fix when it is not a run."""
    from ..train.config import resolve_run, runs_dir

    path = resolve_run(run)
    cfg = path / "config.json"
    if not cfg.is_file():
        where = f"no folder {path}" if not path.exists() else f"{path} has no config.json"
        raise ReportError(f"{run}: not a training run ({where}); pass a run name under {runs_dir()} "
                          "or the folder `macflow-arena train --out` wrote")
    try:
        return path, json.loads(cfg.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ReportError(f"{cfg}: unreadable ({e}); retrain the run or remove it from the report") from None


def last_eval(path: Path, run: str) -> dict:
    """The last line of ``eval.jsonl``."""
    lines = []
    f = path / "eval.jsonl"
    if f.is_file():
        lines = [ln for ln in f.read_text().splitlines() if ln.strip()]
    if not lines:
        raise ReportError(f"{run}: no evaluation in {f}; pass --episodes N (N > 0) to evaluate its latest checkpoint")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        raise ReportError(f"{f}: last line is not JSON; pass --episodes N (N > 0) to evaluate afresh") from None


def decision_ms(path: Path, env_id: str) -> float:
    """Median ms of one batch-1 ``act`` of the run's latest checkpoint on the CPU (``teams.latency``)."""
    from ..algos.checkpoint import load_checkpoint
    from ..teams.latency import measure_latency
    from ..train.trainer import latest_checkpoint

    algo = load_checkpoint(latest_checkpoint(path), device="cpu").algo
    return measure_latency(algo, env_id)["median_ms"]


def score_run(run: str | os.PathLike, episodes: int) -> RunResult:
    """Score ``run``: evaluate its latest checkpoint on ``episodes`` episodes (0: reuse eval.jsonl)."""
    from ..algos.checkpoint import CheckpointError
    from ..train.trainer import TrainError, evaluate_run

    path, cfg = run_folder(run)
    env = cfg["train"]["env"]
    try:
        res = evaluate_run(path, episodes=episodes) if episodes > 0 else last_eval(path, str(run))
        ms = decision_ms(path, env)
    except (TrainError, CheckpointError) as e:
        raise ReportError(str(e)) from None
    if "normalized_score" not in res:
        raise ReportError(f"{run}: its evaluation has no normalized score (dataset {cfg['dataset']['name']} has no "
                          "reference returns); record the dataset without --no-reference and retrain")
    return RunResult(name=path.name, path=path, algo=cfg["algo"], env=env, dataset=cfg["dataset"]["name"],
                     seed=int(cfg["train"]["seed"]), eval=res, source="evaluated" if episodes > 0 else "eval.jsonl",
                     ms_per_decision=ms)
