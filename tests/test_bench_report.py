"""`bench --quick` (one table, finite positive numbers) and `report` (seeds aggregated, md + PNG, errors)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _train_helpers import record_tiny, tiny_config  # noqa: E402

from macflow_arena.cli import main  # noqa: E402

ALGOS = ("macflow", "bc", "td3bc", "flowbc", "diffusion")


def _table(text: str) -> list[list[str]]:
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("|---")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows[1:]]


def test_bench_quick_one_table_of_positive_numbers(tmp_path, capsys):
    import importlib.util

    out = tmp_path / "bench.md"
    assert main(["bench", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "bench: inference: diffusion, batch 1024" in printed.err  # progress goes to stderr
    text = out.read_text()
    assert text == printed.out
    assert text.count("| group | configuration |") == 1
    rows = {(g, c): (v, u, r) for g, c, v, u, r in _table(text)}
    expected = [("env", "particle/spread VectorEnv B=1024"), ("env", "particle/spread ParallelEnv B=1"),
                ("env", "skirmish/3m VectorEnv B=1024")]
    expected += [("inference", f"{a}, batch {b}") for b in (1, 1024) for a in ALGOS]
    expected += [("training", f"{a} (small, 16x20 windows)") for a in ALGOS]
    have_mpe2 = importlib.util.find_spec("mpe2") is not None
    if have_mpe2:
        expected.append(("env", "mpe2 simple_spread_v3 (parallel)"))
    assert sorted(rows) == sorted(expected)
    for key, (value, unit, ratio) in rows.items():
        v = float(value.replace(",", ""))
        assert math.isfinite(v) and v > 0, (key, value)
        if key[0] == "inference":
            assert unit == "ms/decision" and re.fullmatch(r"\d+\.\d\dx bc", ratio)
        if key[0] == "training":
            assert unit == "updates/s" and re.fullmatch(r"\d+\.\dx bc time", ratio)
    assert rows["inference", "bc, batch 1"][2] == "1.00x bc"
    if have_mpe2:
        assert rows["env", "particle/spread VectorEnv B=1024"][2].endswith("x mpe2")
    # the 100-step diffusion policy is slower per decision than one-step macflow
    assert float(rows["inference", "diffusion, batch 1"][0]) > float(rows["inference", "macflow, batch 1"][0])


def test_bench_out_must_be_markdown(tmp_path, capsys):
    assert main(["bench", "--quick", "--out", str(tmp_path / "bench.txt")]) == 2
    assert ".md" in capsys.readouterr().err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two macflow seeds and one bc run, each with an eval.jsonl line; one run without."""
    from macflow_arena.train.trainer import train

    root = tmp_path_factory.mktemp("runs")
    ds = record_tiny(root / "data")
    made = {}
    for name, algo, seed, ev in (("mf0", "macflow", 0, 4), ("mf1", "macflow", 1, 4), ("bc0", "bc", 0, 4),
                                 ("noeval", "bc", 2, 0)):
        train(tiny_config(ds, root / name, algo=algo, seed=seed, steps=6, eval_episodes=ev), log=None)
        made[name] = root / name
    return made


def test_report_aggregates_seeds_and_writes_md_and_png(runs, tmp_path, capsys):
    from macflow_arena.render.pg import pygame
    from macflow_arena.teams.card import mean_ci

    out = tmp_path / "report"
    argv = ["report", str(runs["mf0"]), str(runs["mf1"]), str(runs["bc0"]), "--out", str(out), "--episodes", "0"]
    assert main(argv) == 0
    assert "[3/3]" in capsys.readouterr().err
    md = (out / "report.md").read_text()
    summary, per_run = md.split("## Runs")
    groups = {r[0]: r for r in _table(summary)}
    assert sorted(groups) == ["bc", "macflow"]
    run_rows = {r[0]: r for r in _table(per_run)}
    assert sorted(run_rows) == ["bc0", "mf0", "mf1"] and all(r[6] == "eval.jsonl" for r in run_rows.values())
    scores = [json.loads((runs[n] / "eval.jsonl").read_text().splitlines()[-1])["normalized_score"]
              for n in ("mf0", "mf1")]
    mf = groups["macflow"]
    assert mf[1] == "2 (0, 1)" and mf[3] == "training seeds"
    m = re.fullmatch(r"(-?[\d.]+) \[(-?[\d.]+), (-?[\d.]+)\]", mf[2])
    assert m, mf[2]
    assert float(m[1]) == pytest.approx(np.mean(scores), abs=0.051)
    _, lo, hi = mean_ci(scores)  # the team card's interval over seeds
    assert (float(m[2]), float(m[3])) == pytest.approx((lo, hi), abs=0.051)
    bc = groups["bc"]
    assert bc[1] == "1 (0)" and bc[3] == "episodes" and bc[2].startswith(run_rows["bc0"][4])
    for g in groups.values():
        assert float(g[-3]) > 0 and g[-2] == "particle/spread"  # ms/decision, env
    png = out / "report.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = pygame().image.load(str(png))
    assert img.get_size() == (760, 480)


def test_report_evaluates_afresh(runs, tmp_path, capsys):
    out = tmp_path / "fresh"
    assert main(["report", str(runs["noeval"]), "--out", str(out), "--episodes", "3"]) == 0
    row = _table((out / "report.md").read_text().split("## Runs")[1])[0]
    assert row[0] == "noeval" and row[5] == "3" and row[6] == "evaluated"


def test_report_errors_name_the_fix(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MACFLOW_ARENA_HOME", str(tmp_path / "home"))
    assert main(["report", "no-such-run", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no-such-run: not a training run" in err and "macflow-arena train --out" in err
    assert main(["report", str(runs["noeval"]), "--out", str(tmp_path), "--episodes", "0"]) == 2
    assert "pass --episodes N" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_report_set_reevaluates_with_execution_options(runs, tmp_path, capsys, monkeypatch):
    from macflow_arena.teams import latency
    from macflow_arena.train.trainer import evaluate_run

    timed = []  # the execution option each timed algorithm acted with
    real = latency.measure_latency
    monkeypatch.setattr(latency, "measure_latency",
                        lambda algo, env_id, **kw: timed.append(algo.config.exec_noise) or real(algo, env_id, **kw))
    out = tmp_path / "centre"
    # mf0 has an eval.jsonl line; --set still evaluates it afresh
    assert main(["report", str(runs["mf0"]), "--out", str(out), "--episodes", "3", "--set", "exec_noise=1"]) == 0
    assert "with exec_noise=1" in capsys.readouterr().err
    md = (out / "report.md").read_text()
    assert "Execution options (`--set`): `exec_noise=1`, applied to every run" in md
    summary, per_run = md.split("## Runs")
    assert per_run.splitlines()[2].endswith("| ms/decision | execution |")
    row = _table(per_run)[0]
    assert row[0] == "mf0" and row[5] == "3" and row[6] == "evaluated" and row[-1] == "exec_noise=1.0"
    assert timed == [1.0]
    sampled = evaluate_run(runs["mf0"], episodes=3, device="cpu", execution={"exec_noise": 1.0})
    centre = evaluate_run(runs["mf0"], episodes=3, device="cpu")  # the default: the noise centre
    assert centre["normalized_score"] != sampled["normalized_score"]  # the option matters on this run...
    assert float(row[4]) == pytest.approx(sampled["normalized_score"], abs=0.051)  # ...and the report used it
    # without --set: no execution line, no column
    assert main(["report", str(runs["mf0"]), "--out", str(out), "--episodes", "0"]) == 0
    md = (out / "report.md").read_text()
    assert "Execution options" not in md and "execution |" not in md


@pytest.mark.parametrize("argv, pattern", [
    (["mf0", "bc0", "--set", "exec_noise=0"], "exec_noise: not an execution option of bc .*bc's execution options: "
                                              "stochastic"),
    (["bc0", "--set", "nope=1"], "nope: not an execution option of bc .*execution options: stochastic"),
    (["mf0", "--set", "alpha=3"], "alpha: not an execution option of macflow .*execution options: exec_noise"),
    (["mf0", "--set", "exec_noise=-1"], "exec_noise must be >= 0"),
    (["bc0", "--set", "stochastic=maybe"], "expected true/false"),
    (["mf0", "--set", "exec_noise"], "expects NAME=VALUE"),
    (["mf0", "--set", "exec_noise=0", "--episodes", "0"], "must be evaluated afresh: pass --episodes N"),
    (["mf0", "--set", "bc:stochastic=true"], "none of the runs is bc .*their algorithms: macflow"),
    (["mf0", "bc0", "--set", "bc:exec_noise=1"], "exec_noise: not an execution option of bc"),
], ids=["other-algo", "unknown", "training-field", "bad-value", "bad-bool", "no-equals", "episodes-0", "scoped-absent",
        "scoped-wrong"])
def test_report_set_errors_before_any_work(runs, tmp_path, capsys, argv, pattern):
    names = [runs[a] if a in runs else a for a in argv]
    assert main(["report", *map(str, names), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err), err
    assert "[1/" not in err and not (tmp_path / "report.md").exists()  # nothing evaluated


def test_report_set_scoped_to_one_algorithm(runs, tmp_path):
    """``--set macflow:exec_noise=1`` next to BC runs: only the macflow runs act with it."""
    from macflow_arena.report.runs import parse_execution

    assert parse_execution(["macflow:exec_noise=1"], [runs["mf0"], runs["bc0"]]) == {"macflow": {"exec_noise": 1.0},
                                                                                    "bc": {}}
    out = tmp_path / "scoped"
    assert main(["report", str(runs["mf0"]), str(runs["bc0"]), "--out", str(out), "--episodes", "2",
                 "--set", "macflow:exec_noise=1"]) == 0
    rows = {r[0]: r for r in _table((out / "report.md").read_text().split("## Runs")[1])}
    assert rows["mf0"][-1] == "exec_noise=1.0" and rows["bc0"][-1] in ("", "-")


def test_report_set_bc_stochastic_samples(runs, tmp_path, capsys):
    out = tmp_path / "sampled"
    assert main(["report", str(runs["bc0"]), "--out", str(out), "--episodes", "2", "--set", "stochastic=true"]) == 0
    row = _table((out / "report.md").read_text().split("## Runs")[1])[0]
    assert row[0] == "bc0" and row[-1] == "stochastic=True"
