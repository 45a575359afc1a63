"""Warm start (--init-from): a flowbc teacher seeds macflow's teacher; mismatches are refused."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from _train_helpers import record_tiny, tiny_config  # noqa: E402


@pytest.fixture(scope="module")
def spread(tmp_path_factory):
    return record_tiny(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def flowbc_run(spread, tmp_path_factory):
    from macflow_arena.train.trainer import train

    out = tmp_path_factory.mktemp("runs") / "teacher"
    overrides = {"hidden": (32, 32), "flow_steps": 3, "teacher": "joint"}
    train(tiny_config(spread, out, algo="flowbc", steps=6, overrides=overrides), log=None)
    return out


def _teacher_state(run):
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.train.trainer import latest_checkpoint

    return load_checkpoint(latest_checkpoint(run)).algo.nets["teacher"].state_dict()


def test_macflow_teacher_starts_from_the_flowbc_teacher(spread, flowbc_run, tmp_path):
    from macflow_arena.algos.registry import make
    from macflow_arena.train.trainer import train

    src = _teacher_state(flowbc_run)
    out = tmp_path / "student"
    logs = []
    res = train(tiny_config(spread, out, steps=0 + 1, init_from=str(flowbc_run)), log=logs.append)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["warm_start"]["nets"] == ["teacher"] and cfg["warm_start"]["algo"] == "flowbc"
    assert cfg["warm_start"]["step"] == 6 and cfg["train"]["init_from"] == str(flowbc_run)
    assert any("warm start: teacher" in m for m in logs)
    # One update moved the teacher a little from the pretrained weights, far less than from a fresh init.
    got = res.algo.nets["teacher"].state_dict()
    fresh = make("macflow", res.algo.spec, "small", seed=0, hidden=(32, 32), flow_steps=3).nets["teacher"].state_dict()
    k = next(k for k in got if k.endswith("weight"))
    assert (got[k] - src[k]).abs().max() < 0.01 < (fresh[k] - src[k]).abs().max()


def test_warm_start_copies_exact_weights_before_training(spread, flowbc_run):
    from macflow_arena.algos.registry import make
    from macflow_arena.train.data import load_device_dataset
    from macflow_arena.train.warm_start import warm_start

    data = load_device_dataset(spread, "particle/spread")
    algo = make("macflow", data.spec, "small", hidden=(32, 32), flow_steps=3)
    critic_before = {k: v.clone() for k, v in algo.nets["critic"].state_dict().items()}
    rec = warm_start(algo, flowbc_run)
    assert rec["nets"] == ["teacher"]
    src = _teacher_state(flowbc_run)
    assert all(torch.equal(v, src[k]) for k, v in algo.nets["teacher"].state_dict().items())
    assert all(torch.equal(v, critic_before[k]) for k, v in algo.nets["critic"].state_dict().items())


def test_mismatched_teacher_is_refused_and_nothing_changes(spread, flowbc_run):
    from macflow_arena.algos.registry import make
    from macflow_arena.train.data import load_device_dataset
    from macflow_arena.train.warm_start import WarmStartError, warm_start

    data = load_device_dataset(spread, "particle/spread")
    algo = make("macflow", data.spec, "small", hidden=(32, 32), flow_steps=3, teacher="per_agent")
    before = {k: v.clone() for k, v in algo.nets.state_dict().items()}
    with pytest.raises(WarmStartError, match="differ in shape"):
        warm_start(algo, flowbc_run)
    with pytest.raises(WarmStartError, match="macflow has no network 'nope'"):
        warm_start(algo, flowbc_run, ["nope"])
    with pytest.raises(WarmStartError, match="shapes differ"):
        warm_start(algo, flowbc_run, ["teacher"])
    assert all(torch.equal(v, before[k]) for k, v in algo.nets.state_dict().items())


def test_init_from_a_missing_run_names_the_fix(spread, tmp_path):
    from macflow_arena.train.trainer import TrainError, train

    with pytest.raises(TrainError, match="--init-from"):
        train(tiny_config(spread, tmp_path / "x", init_from=str(tmp_path / "nope")), log=None)
