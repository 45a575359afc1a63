"""Trainer: device windows, end-to-end training, checkpoints, exact resume in a new process, refusals."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _train_helpers import TINY as TINY_OVERRIDES  # noqa: E402
from _train_helpers import record_tiny, tiny_config  # noqa: E402


@pytest.fixture(scope="module")
def spread(tmp_path_factory):
    return record_tiny(tmp_path_factory.mktemp("data"))


def test_windows_match_episodes_and_never_cross_ends(spread):
    from macflow_arena.data import Dataset
    from macflow_arena.train.data import load_device_dataset

    dd = load_device_dataset(spread, "particle/spread")
    ea = Dataset(spread).load()
    g = torch.Generator().manual_seed(3)
    T = 30  # longer than an episode: every window is padded
    b = dd.sample(64, T, g).validate(dd.spec)
    # the real rows of a window are one contiguous block of one episode: it starts at the
    # episode's first step when the window begins with padding, and reaches the episode's
    # end when padding follows it; every padded row is zero
    ss = dd.step_start.numpy()
    for k in range(16):
        m = b.mask[k].numpy()
        real = np.flatnonzero(m)
        assert real.size >= 1 and np.array_equal(real, np.arange(real[0], real[-1] + 1))
        a, L = int(real[0]), int(real.size)
        obs = b.obs[k].numpy()
        found = False
        for e in range(len(ea)):
            ep = ea.episode(e)
            n = len(ep["action"])
            starts = [0] if a > 0 else range(n - L + 1)
            for t0 in starts:
                if a + L < T and t0 + L != n:
                    continue  # padding after the block: the block must end the episode
                if np.array_equal(ep["obs"][t0 : t0 + L + 1], obs[a : a + L + 1]):
                    found = True
                    assert np.allclose(ep["action"][t0 : t0 + L], b.actions[k, a : a + L].numpy())
                    break
            if found:
                break
        assert found
        assert not obs[:a].any() and not obs[a + L + 1 :].any()
        assert float(b.rewards[k][b.mask[k] == 0].abs().sum()) == 0
    assert ss[-1] == dd.num_steps
    # particle episodes end by truncation only: never terminal
    assert float(b.terminated.sum()) == 0


def test_windows_cover_every_step_equally():
    """Every recorded step appears in training windows equally often: step 0 of an
    episode (where a team picks its joint plan) as often as its middle steps."""
    from macflow_arena.algos import TeamSpec
    from macflow_arena.train.data import DeviceDataset

    lens = torch.tensor([30, 12, 30, 7])  # episodes, some shorter than the window
    E, R = len(lens), int(lens.sum())
    step_start = torch.cat([torch.zeros(1, dtype=torch.int64), lens.cumsum(0)])
    obs_start = step_start + torch.arange(E + 1)
    t_in_ep = torch.cat([torch.arange(int(n)) for n in lens]).float()
    dd = DeviceDataset(
        name="synthetic", path="", env_id="particle/spread", spec=TeamSpec(1, 1, 1), header={}, manifest_sha256="",
        steps=lens, step_start=step_start, obs_start=obs_start, obs=torch.ones(R + E, 1, 1), alive_obs=torch.ones(R + E, 1),
        avail=None, actions=t_in_ep[:, None, None], rewards=torch.ones(R), terminated=torch.zeros(R), returns=np.zeros(E),
    )
    n, T = 40000, 20
    b = dd.sample(n, T, torch.Generator().manual_seed(0))
    real = b.mask > 0
    steps = b.actions[..., 0, 0][real].long()
    counts = torch.bincount(steps, minlength=30).float()
    # each step is covered by T of the sum(L + T - 1) placements: n T / sum(L + T - 1) per
    # recorded step, times the number of episodes that have step t
    expect = T * n / float((lens + T - 1).sum()) * torch.tensor([float((lens > t).sum()) for t in range(30)])
    assert torch.allclose(counts, expect, rtol=0.06), (counts[:5], expect[:5])
    assert float(b.rewards[~real].abs().sum()) == 0


def test_team_terminal_flag_only_at_battle_end(tmp_path):
    from macflow_arena.train.data import load_device_dataset

    ds = record_tiny(tmp_path, "skirmish/3m", episodes=8)
    dd = load_device_dataset(ds, "skirmish/3m")
    last = (dd.step_start[1:] - 1).numpy()
    term = dd.terminated.numpy()
    assert set(np.flatnonzero(term)) <= set(last.tolist())
    assert term.sum() >= 1  # the scripted team wins battles: those ends are terminal
    b = dd.sample(16, 10, torch.Generator().manual_seed(0)).validate(dd.spec)
    assert b.avail is not None and b.actions.dtype == torch.int64


def test_train_end_to_end_checkpoints_and_config(spread, tmp_path):
    from macflow_arena.train.trainer import checkpoints, train

    out = tmp_path / "run"
    res = train(tiny_config(spread, out, steps=12, ckpt_every=5, eval_episodes=4), log=None)
    assert res.step == 12
    assert [s for s, _ in checkpoints(out)] == [5, 10, 12]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["train"]["algo"] == "macflow" and cfg["algo_config"]["hidden"] == [32, 32]
    assert len(cfg["dataset"]["manifest_sha256"]) == 64
    meta = json.loads((out / "checkpoints" / "step-00000012.json").read_text())
    assert meta["dataset_hash"] == cfg["dataset"]["manifest_sha256"] and meta["package_version"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(np.isfinite(v) for v in json.loads(lines[-1]).values())
    assert np.isfinite(res.last_eval["return_mean"]) and np.isfinite(res.last_eval["normalized_score"])


RESUME = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from macflow_arena.train.trainer import train
    from _train_helpers import tiny_config
    train(tiny_config({ds!r}, {out!r}, steps=10), resume={out!r}, log=None)
""")


def test_a_delayed_actor_reaches_every_log_line(spread, tmp_path):
    """TD3+BC updates its actor every other step; with an even --log-every every logged update is a
    critic-only one, and the actor's losses must still reach metrics.jsonl (their latest value)."""
    from macflow_arena.train.trainer import train

    out = tmp_path / "r"
    res = train(tiny_config(spread, out, steps=8, algo="td3bc", log_every=2), log=None)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4, 6, 8]
    assert all("actor/bc_mse" in x and "actor/loss" in x for x in lines)
    # the value logged is that of the latest actor step (the update before the logged one)
    hist = {h["step"]: h for h in res.history}
    assert "actor/bc_mse" not in hist[2] and lines[0]["actor/bc_mse"] == hist[1]["actor/bc_mse"]
    assert lines[0]["critic/loss"] == hist[2]["critic/loss"]


@pytest.mark.parametrize("algo", ["macflow", "td3bc"])
def test_resume_in_new_process_is_exact(spread, tmp_path, algo):
    from macflow_arena.algos.checkpoint import read_checkpoint
    from macflow_arena.train.trainer import train

    straight, part = tmp_path / "straight", tmp_path / "part"
    train(tiny_config(spread, straight, steps=10, algo=algo, lr_decay="none"), log=None)
    train(tiny_config(spread, part, steps=5, algo=algo, lr_decay="none"), log=None)
    tests = str(__import__("pathlib").Path(__file__).parent)
    code = RESUME.format(tests=tests, ds=str(spread), out=str(part))
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)  # a hang guard: a loaded 2-core machine took over 120 s
    a = [json.loads(x) for x in (straight / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in b] == list(range(1, 11))
    assert a == b  # every loss of every step, bit for bit
    _, ta = read_checkpoint(straight / "checkpoints" / "step-00000010.safetensors")
    _, tb = read_checkpoint(part / "checkpoints" / "step-00000010.safetensors")
    assert ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k


def test_dataset_of_another_env_is_refused(spread, tmp_path):
    from macflow_arena.train.data import DatasetMismatchError
    from macflow_arena.train.trainer import train

    with pytest.raises(DatasetMismatchError, match=r"recorded on particle/spread-v0, not particle/tag"):
        train(tiny_config(spread, tmp_path / "r", env_id="particle/tag"), log=None)


def test_unknown_algo_lists_known(spread, tmp_path):
    from macflow_arena.train.trainer import train

    with pytest.raises(KeyError, match="known: .*macflow"):
        train(tiny_config(spread, tmp_path / "r", algo="macflo"), log=None)


def test_resume_of_a_missing_run_names_the_fix(tmp_path):
    from macflow_arena.train.trainer import TrainError, train
    from macflow_arena.train.config import TrainConfig

    with pytest.raises(TrainError, match="nope: not a training run folder .*macflow-arena train --out"):
        train(TrainConfig(), resume=tmp_path / "nope")


def test_overrides_are_typed_from_the_dataclass():
    from macflow_arena.algos.macflow import MACFlowConfig
    from macflow_arena.train.config import parse_overrides

    got = parse_overrides(["alpha=3", "hidden=64,64", "teacher=per_agent", "normalize_q=false", "gamma=none"], MACFlowConfig)
    assert got == {"alpha": 3.0, "hidden": (64, 64), "teacher": "per_agent", "normalize_q": False, "gamma": None}
    with pytest.raises(ValueError, match="known: .*alpha"):
        parse_overrides(["alfa=1"], MACFlowConfig)


def test_eval_every_with_zero_eval_episodes_skips_evaluation(spread, tmp_path):
    """`--eval-episodes 0` turns evaluation off even where --eval-every (default 5000) falls due."""
    from macflow_arena.train.trainer import train

    res = train(tiny_config(spread, tmp_path / "r", steps=4, eval_every=2, eval_episodes=0, ckpt_every=4), log=None)
    assert res.step == 4 and res.last_eval is None
    assert (tmp_path / "r" / "checkpoints" / "step-00000004.safetensors").is_file()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile imports torch.jit internals
def test_compiled_update_matches_eager(spread, tmp_path):
    """`--compile on` runs the same update through torch.compile: same losses, same weights (float
    tolerance) as the eager run; a bad value is refused before any data is read."""
    from macflow_arena.train.trainer import TrainError, train

    runs = {}
    for mode in ("off", "on"):
        res = train(tiny_config(spread, tmp_path / mode, algo="flowbc", steps=3, batch_size=16, compile=mode), log=None)
        runs[mode] = res
    a, b = (r.algo.nets.state_dict() for r in (runs["off"], runs["on"]))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)
    for ha, hb in zip(runs["off"].history, runs["on"].history):
        assert ha["loss/total"] == pytest.approx(hb["loss/total"], rel=1e-4, abs=1e-6)
    with pytest.raises(TrainError, match="--compile 'fast'"):
        train(tiny_config(spread, tmp_path / "bad", compile="fast"), log=None)


def test_a_failing_compiler_is_a_train_error_that_names_the_fix(spread, tmp_path, monkeypatch):
    """`--compile on` where TorchInductor cannot build (no C++ compiler): a TrainError naming the
    way out, not a compiler traceback; an error of the losses themselves is not relabelled."""
    from torch._dynamo.exc import BackendCompilerFailed

    from macflow_arena.train.trainer import TrainError, is_compile_failure, train

    def broken_compile(fn, **kw):
        def run(*a, **k):
            raise BackendCompilerFailed(fn, RuntimeError("InvalidCxxCompiler: No working C++ compiler"), None)
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    with pytest.raises(TrainError, match=r"--compile on: .*No working C\+\+ compiler.*--compile off.*\$CXX"):
        train(tiny_config(spread, tmp_path / "c", steps=2, compile="on"), log=None)
    res = train(tiny_config(spread, tmp_path / "c", steps=2, compile="off"), log=None)  # the same folder, eager
    assert res.step == 2
    assert not is_compile_failure(RuntimeError("shape mismatch"))


def test_time_limit_ends_the_run_with_its_final_checkpoint(spread, tmp_path):
    """`--time-limit` stops a run at the update it reached, which then ends as at --steps: final
    checkpoint, metrics line; a negative limit is refused."""
    from macflow_arena.train.trainer import TrainError, checkpoints, train

    res = train(tiny_config(spread, tmp_path / "r", algo="bc", steps=100000, time_limit=1.0, ckpt_every=0,
                            log_every=1000), log=None)
    assert res.stopped_by_time and 0 < res.step < 100000
    assert [s for s, _ in checkpoints(tmp_path / "r")] == [res.step]
    last = json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == res.step
    done = train(tiny_config(spread, tmp_path / "q", algo="bc", steps=3, time_limit=60.0), log=None)
    assert done.step == 3 and not done.stopped_by_time
    with pytest.raises(TrainError, match="--time-limit -1"):
        train(tiny_config(spread, tmp_path / "bad", time_limit=-1.0), log=None)


def test_macflow_teacher_lr_is_its_own_group_under_the_schedule(spread, tmp_path):
    """``teacher_lr``: the flow teacher learns at its own peak rate; the cosine schedule
    scales each group's peak (at the last step: 5% of it)."""
    from macflow_arena.train.trainer import train

    res = train(tiny_config(spread, tmp_path / "r", steps=4, overrides={**TINY_OVERRIDES, "lr": 1e-3, "teacher_lr": 4e-3}),
                log=None)
    algo = res.algo
    teacher, rest = algo.optimizers["main"].param_groups
    assert {id(p) for p in teacher["params"]} == {id(p) for p in algo.nets["teacher"].parameters()}
    ids = {id(p) for k in ("student", "critic") for p in algo.nets[k].parameters()}
    assert {id(p) for p in rest["params"]} == ids
    frac = 3 / 4  # the schedule set before the last update
    scale = 0.05 + 0.95 * 0.5 * (1 + __import__("math").cos(__import__("math").pi * frac))
    assert teacher["lr"] == pytest.approx(4e-3 * scale) and rest["lr"] == pytest.approx(1e-3 * scale)
    with pytest.raises(ValueError, match="teacher_lr"):
        train(tiny_config(spread, tmp_path / "bad", overrides={**TINY_OVERRIDES, "teacher_lr": 2.0}), log=None)


def test_macflow_student_lr_is_its_own_group(spread, tmp_path):
    """``student_lr`` (with or without ``teacher_lr``): the students get their own peak rate, the rest ``lr``."""
    from macflow_arena.train.trainer import train

    for extra, n_groups in (({"student_lr": 3e-3}, 2), ({"student_lr": 3e-3, "teacher_lr": 4e-3}, 3)):
        res = train(tiny_config(spread, tmp_path / f"r{n_groups}", steps=2,
                                overrides={**TINY_OVERRIDES, "lr": 1e-3, **extra}), log=None)
        algo = res.algo
        groups = algo.optimizers["main"].param_groups
        assert len(groups) == n_groups
        by_id = {id(p): g["peak_lr"] for g in groups for p in g["params"]}
        assert {by_id[id(p)] for p in algo.nets["student"].parameters()} == {3e-3}
        assert {by_id[id(p)] for p in algo.nets["critic"].parameters()} == {1e-3}
        assert {by_id[id(p)] for p in algo.nets["teacher"].parameters()} == {extra.get("teacher_lr", 1e-3)}
        assert len(by_id) == sum(1 for k in ("teacher", "student", "critic") for _ in algo.nets[k].parameters())
    with pytest.raises(ValueError, match="student_lr"):
        train(tiny_config(spread, tmp_path / "bad", overrides={**TINY_OVERRIDES, "student_lr": 0.0}), log=None)
