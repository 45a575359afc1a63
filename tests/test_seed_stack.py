"""Several seeds in one process: a stacked update is K single updates (to float tolerance),
and ``train --seeds`` writes K run folders in the single-run format."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, TINY, TINY_EXTRA  # noqa: E402
from _train_helpers import record_tiny, tiny_config  # noqa: E402

from macflow_arena.algos import TeamSpec, make, random_batch  # noqa: E402
from macflow_arena.algos.seed_stack import SeedStack, SeedStackError  # noqa: E402
from macflow_arena.envs.layout import blocks  # noqa: E402

LAYOUT = [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": blocks(4, 3, 2)},
          {"name": "agents", "index": blocks(10, 2, 2)}]


def _spec(discrete: bool) -> TeamSpec:
    return TeamSpec(n_agents=3, obs_dim=14, action_dim=5 if discrete else 2, discrete=discrete, entities=LAYOUT)


def _algo(name, discrete, seed, overrides):
    return make(name, _spec(discrete), "small", seed=seed, **{**TINY, **TINY_EXTRA.get(name, {}), **overrides})


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_stacked_update_matches_single_runs(case):
    """Seed k of a stack = the single run of seed k after several updates: weights, Adam
    moments, step, training generator and every metric (entity layout, padded i.i.d. batches)."""
    _, name, discrete, overrides = case
    seeds = [0, 3, 11]
    single = [_algo(name, discrete, s, overrides) for s in seeds]
    members = [_algo(name, discrete, s, overrides) for s in seeds]
    stack = SeedStack(members)
    g1 = [torch.Generator().manual_seed(100 + s) for s in seeds]
    g2 = [torch.Generator().manual_seed(100 + s) for s in seeds]
    for _ in range(4):  # td3bc: actor steps and critic-only steps both happen
        m1 = [a.update(random_batch(_spec(discrete), 16, 1, generator=g)) for a, g in zip(single, g1)]
        m2 = stack.update([random_batch(_spec(discrete), 16, 1, generator=g) for g in g2])
        for a, b in zip(m1, m2):
            assert a.keys() == b.keys()
            for k in a:
                assert b[k] == pytest.approx(a[k], rel=1e-4, abs=1e-5), k
    stack.write_back()
    for a, b in zip(single, members):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            if sa[k].is_floating_point():
                torch.testing.assert_close(sb[k], sa[k], rtol=1e-3, atol=1e-4, msg=k)
            else:
                assert torch.equal(sa[k], sb[k]), k
        assert b.step == a.step == 4


def test_stack_refuses_mismatched_members():
    a = _algo("bc", False, 0, {})
    with pytest.raises(SeedStackError, match="same algorithm"):
        SeedStack([a, _algo("bc", False, 1, {"hidden": (16, 16)})])
    with pytest.raises(SeedStackError, match="repeat"):
        SeedStack([a, _algo("bc", False, 0, {})])
    b = _algo("bc", False, 1, {})
    b.set_obs_stats(torch.ones(14), torch.ones(14))
    with pytest.raises(SeedStackError, match="buffer"):
        SeedStack([a, b])


def test_stack_refuses_a_non_finite_update_and_steps_nobody():
    algos = [_algo("bc", False, s, {}) for s in (0, 1)]
    stack = SeedStack(algos)
    bad = random_batch(_spec(False), 8, 1)
    bad.obs[0, 0, 0, 0] = float("nan")
    good = random_batch(_spec(False), 8, 1)
    with pytest.raises(ValueError, match="NaN"):
        stack.update([good, bad])  # the batch check, as for a single run
    with torch.no_grad():  # seed 1's weights blow up: its loss is not finite, seed 0's is
        p = next(stack.host.nets.parameters())
        p[1].fill_(float("inf"))
    before = {k: v.clone() for k, v in stack.host.state_dict().items()}
    with pytest.raises(FloatingPointError, match="seed 1"):
        stack.update([good, random_batch(_spec(False), 8, 1)])
    after = stack.host.state_dict()
    for k, v in before.items():
        if k.startswith("nets."):
            assert torch.equal(v, after[k]), k  # nobody stepped, seed 0 included
    assert stack.step == 0


def test_parse_seeds():
    from macflow_arena.train.seeds import parse_seeds
    from macflow_arena.train.trainer import TrainError

    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("3,1, 7") == [3, 1, 7]
    assert parse_seeds("0-1,5") == [0, 1, 5]
    for bad, msg in (("4-2", "backwards"), ("a", "range"), ("1,1", "twice"), ("-1", "range"), ("0-99", "at most")):
        with pytest.raises(TrainError, match=msg):
            parse_seeds(bad)


@pytest.mark.parametrize("stack", ["on", "off"])
def test_train_seeds_writes_single_run_folders(tmp_path, stack):
    """``--seeds 0,1`` writes two run folders a single run would write (its seed in config.json,
    checkpoints that load and resume) whose weights match the single runs of those seeds."""
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.train.seeds import train_seeds
    from macflow_arena.train.trainer import latest_checkpoint, train

    data = record_tiny(tmp_path / "data")
    cfg = tiny_config(data, tmp_path / "multi" / "run-{seed}", algo="td3bc", steps=6, ckpt_every=3,
                      eval_episodes=2, eval_every=3)
    results = train_seeds(cfg, [0, 1], stack=stack, log=None)
    assert [r.run_dir.name for r in results] == ["run-0", "run-1"]
    for seed, res in zip((0, 1), results):
        conf = json.loads((res.run_dir / "config.json").read_text())
        assert conf["train"]["seed"] == seed
        assert res.step == 6 and res.last_eval is not None
        evals = [json.loads(x) for x in (res.run_dir / "eval.jsonl").read_text().splitlines()]
        assert [e["step"] for e in evals] == [3, 6]
        single = train(tiny_config(data, tmp_path / f"single-{seed}", algo="td3bc", steps=6, seed=seed), log=None)
        a = load_checkpoint(latest_checkpoint(res.run_dir)).algo.state_dict()
        b = load_checkpoint(latest_checkpoint(single.run_dir)).algo.state_dict()
        for k in b:
            if b[k].is_floating_point():
                torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4, msg=k)
            else:
                assert torch.equal(a[k], b[k]), k
    again = train(tiny_config(data, tmp_path / "unused", steps=8), resume=str(results[1].run_dir), log=None)
    assert again.step == 8


def test_train_seeds_refuses_a_shared_folder_and_compile(tmp_path):
    from macflow_arena.train.seeds import seed_config, train_seeds
    from macflow_arena.train.trainer import TrainError

    data = record_tiny(tmp_path / "data")
    cfg = tiny_config(data, tmp_path / "x", steps=2)
    assert seed_config(cfg, 3).out.endswith("x-s3")
    with pytest.raises(TrainError, match="compile on"):
        train_seeds(tiny_config(data, tmp_path / "y", compile="on"), [0, 1], stack="on", log=None)
    with pytest.raises(TrainError, match="--stack"):
        train_seeds(cfg, [0, 1], stack="sometimes", log=None)
    assert not (tmp_path / "y-s0").exists()


def test_cli_seeds(tmp_path, capsys):
    from macflow_arena.cli import main

    data = record_tiny(tmp_path / "data")
    out = tmp_path / "cli"
    args = ["train", "particle/spread", "--dataset", str(data), "--algo", "bc", "--out", str(out), "--steps", "3",
            "--eval-episodes", "2", "--eval-every", "0", "--batch-size", "8", "--threads", "1", "--no-progress",
            "--set", "hidden=32,32", "--seeds", "0-1", "--stack", "on"]
    assert main(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert [line["run"] for line in lines] == [str(tmp_path / "cli-s0"), str(tmp_path / "cli-s1")]
    assert main([*args[:-4], "--seeds", "2-1"]) == 2
    assert "backwards" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "cli-s0"), "--seeds", "0-1", "--no-progress"]) == 2
    assert "resume each seed" in capsys.readouterr().err
