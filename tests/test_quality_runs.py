"""benchmarks/quality.py: which run folders count as finished (and are never trained again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _script_helpers import load_benchmark


@pytest.fixture(scope="module")
def quality():
    return load_benchmark("quality")


def _run(tmp_path: Path, name: str, eval_step: int | None, steps: int, time_limit: float) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"train": {"steps": steps, "time_limit": time_limit}}))
    if eval_step is not None:
        (d / "eval.jsonl").write_text(json.dumps({"step": eval_step, "normalized_score": 80.0}) + "\n")
    return d


def test_a_run_that_reached_its_steps_is_finished(quality, tmp_path):
    assert quality.finished(_run(tmp_path, "a", 6000, 6000, 0), 6000)["normalized_score"] == 80.0


def test_a_run_the_time_limit_ended_is_finished_at_its_step(quality, tmp_path):
    # --time-limit stops before --steps with a final evaluation: kept, not retrained (a retrain
    # would delete it and spend the same wall time again)
    assert quality.finished(_run(tmp_path, "b", 5210, 6000, 600), 6000)["step"] == 5210


@pytest.mark.parametrize("eval_step,steps,limit,asked", [
    (None, 6000, 600, 6000),   # killed before its final evaluation
    (5210, 6000, 0, 6000),     # an evaluation before the end, no time limit: not the final one
    (2500, 2500, 600, 6000),   # a run of another length in the same folder
    (5210, 8000, 600, 6000),   # time-limited, but it asked for other steps
])
def test_other_runs_are_not_finished(quality, tmp_path, eval_step, steps, limit, asked):
    assert quality.finished(_run(tmp_path, "c", eval_step, steps, limit), asked) is None


def test_the_paired_table_reads_each_runs_per_episode_returns(quality, tmp_path):
    # two variants, two seeds each, on the same 4 episodes; macflow = bc + 1 return point per episode
    refs = {"random": 0.0, "expert": 10.0}  # 1 return point = 10 normalized points
    results = []
    for variant, shift in (("bc", 0.0), ("macflow", 1.0)):
        for seed in (0, 1):
            d = tmp_path / f"{variant}-{seed}"
            d.mkdir()
            ev = {"env_id": "particle/spread-v0", "seed": 2_000_000_000, "episodes": 4, "num_envs": 4,
                  "episode_returns": [1.0 + shift, 5.0 + shift, -2.0 + shift, 3.0 + shift],
                  "reference_returns": refs}
            (d / "quality-returns-4.json").write_text(json.dumps(ev))
            results.append({"level": "expert", "variant": variant, "run_dir": str(d)})
    lines = quality.paired_table(results, "bc", 4)
    row = next(line for line in lines if line.startswith("| expert"))
    assert row == "| expert | +10.00 [+10.00, +10.00] (4) |"  # the shift, with the shared luck gone
    assert "`bc`" in "\n".join(lines)


def test_a_variant_names_a_recipe_as_a_trainer_option(quality):
    algo, sets = quality.parse_variant("macflow:train.recipe=noisy,student_lr=0.001")
    job = {"env": "particle/spread", "dataset": "d", "algo": algo, "preset": "small", "steps": 10, "device": "cpu",
           "eval_episodes": 4, "sets": sets}
    cmd = quality.train_cmd(job, [0], "out")
    assert cmd[cmd.index("--recipe") + 1] == "noisy"
    assert cmd[cmd.index("--set") + 1] == "student_lr=0.001"
