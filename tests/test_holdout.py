"""``train --holdout F``: whole episodes held out with a fixed generator, never sampled for training,
and the algorithm's own losses on them logged without touching the training generator."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _train_helpers import record_tiny, tiny_config  # noqa: E402

ENV = "skirmish/3m"  # discrete, masked, episodes of different lengths, some ending terminally


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return record_tiny(tmp_path_factory.mktemp("ds"), ENV, episodes=16, quality="random")


@pytest.fixture(scope="module")
def data(dataset):
    from macflow_arena.train.data import load_device_dataset

    return load_device_dataset(dataset, ENV)


def _episode_rows(d, e):
    s0, s1 = int(d.step_start[e]), int(d.step_start[e + 1])
    o0, o1 = int(d.obs_start[e]), int(d.obs_start[e + 1])
    return s0, s1, o0, o1


def test_split_keeps_every_episode_whole_on_exactly_one_side(data):
    from macflow_arena.train.holdout import held_episodes, split

    assert len(set(data.steps.tolist())) > 1  # the offsets are rebuilt, not assumed uniform
    held = held_episodes(data.num_episodes, 0.25)
    assert len(held) == 4 and np.array_equal(held, held_episodes(data.num_episodes, 0.25))  # fixed draw
    train, hold = split(data, 0.25)
    keep = np.setdiff1d(np.arange(data.num_episodes), held)
    assert train.num_episodes + hold.num_episodes == data.num_episodes
    assert train.num_steps + hold.num_steps == data.num_steps
    for part, eps in ((train, keep), (hold, held)):
        assert np.allclose(part.returns, np.asarray(data.returns)[eps])
        for i, e in enumerate(eps):
            s0, s1, o0, o1 = _episode_rows(data, int(e))
            p0, p1, q0, q1 = _episode_rows(part, i)
            assert torch.equal(part.obs[q0:q1], data.obs[o0:o1]) and torch.equal(part.avail[q0:q1], data.avail[o0:o1])
            assert torch.equal(part.actions[p0:p1], data.actions[s0:s1])
            assert torch.equal(part.rewards[p0:p1], data.rewards[s0:s1])
            assert torch.equal(part.terminated[p0:p1], data.terminated[s0:s1])
            # each step's first observation is the same row of its episode as before
            assert torch.equal(part.obs_row[p0:p1] - q0, data.obs_row[s0:s1] - o0)
    assert torch.equal(train.obs_mean, data.obs_mean)  # normalisation: the whole dataset's


def test_training_never_samples_a_held_out_transition(data):
    import dataclasses

    from macflow_arena.train.holdout import held_episodes, split

    # tag each step by its episode through the reward, then sample the training part
    ep_of_step = torch.repeat_interleave(torch.arange(data.num_episodes), data.steps)
    tagged = dataclasses.replace(data, rewards=ep_of_step.float(), _nstep={}, _placements={})
    train, _ = split(tagged, 0.25)
    held = set(held_episodes(data.num_episodes, 0.25).tolist())
    g = torch.Generator().manual_seed(0)
    seen = set(train.sample_transitions(4096, g).rewards.long().flatten().tolist())
    seen |= set(train.sample(64, 8, g).rewards[train.sample(64, 8, g).mask > 0].long().tolist())
    assert seen and not seen & held
    b = train.sample_transitions(256, g)
    b.validate(train.spec)


def test_holdout_losses_leave_the_training_generator_alone(data):
    from _algo_helpers import tiny  # noqa: F401  (the helpers' torch settings)

    from macflow_arena.algos.registry import make
    from macflow_arena.train.holdout import HoldoutLosses, split

    _, hold = split(data, 0.25)
    algo = make("macflow", data.spec, "small", seed=0, hidden=(32, 32), flow_steps=2)
    algo.set_obs_stats(data.obs_mean, data.obs_std)
    h = HoldoutLosses(algo, hold, 64, algo.losses, gamma=0.99)
    before = algo.gen.get_state()
    m1, m2 = h(), h()
    assert torch.equal(algo.gen.get_state(), before)
    assert m1 == m2 and {"holdout/critic/loss", "holdout/actor/distill_loss"} <= set(m1)
    assert all(np.isfinite(v) for v in m1.values())


def test_train_logs_held_out_losses_and_records_the_split(dataset, tmp_path):
    from macflow_arena.train import train

    cfg = tiny_config(dataset, tmp_path / "run", env_id=ENV, algo="bc", steps=4, log_every=2, holdout=0.25)
    train(cfg, log=lambda _m: None)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4]
    assert all("holdout/actor/ce" in x and "actor/ce" in x for x in lines)
    ds = json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]
    assert ds["holdout"]["episodes"] == 4 and ds["episodes"] == 12


@pytest.mark.parametrize("fraction, match", [(1.5, "in \\[0, 1\\)"), (-0.1, "in \\[0, 1\\)"), (0.01, "holds out 0")])
def test_bad_holdout_fractions_are_refused_before_anything_is_written(dataset, tmp_path, fraction, match):
    from macflow_arena.train.trainer import TrainError, train

    cfg = tiny_config(dataset, tmp_path / "run", env_id=ENV, algo="bc", steps=2, holdout=fraction)
    with pytest.raises(TrainError, match=match):
        train(cfg, log=lambda _m: None)
    assert not (tmp_path / "run").exists()


def test_holdout_is_refused_with_a_stacked_seed_update(dataset, tmp_path):
    from macflow_arena.train.trainer import TrainError
    from macflow_arena.train.seeds import train_seeds

    cfg = tiny_config(dataset, tmp_path / "run-{seed}", env_id=ENV, algo="bc", steps=2, holdout=0.25)
    with pytest.raises(TrainError, match="--stack off"):
        train_seeds(cfg, [0, 1], stack="on", log=None)
