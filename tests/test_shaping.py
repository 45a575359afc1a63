"""``train --shaping GROUP[:WEIGHT]``: potential-based shaping of the rewards the critics learn from,
Phi(o) = -WEIGHT * the alive agents' mean distance to the nearest entity of GROUP."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _train_helpers import record_tiny, tiny_config  # noqa: E402


@pytest.fixture(scope="module")
def tag(tmp_path_factory):
    return record_tiny(tmp_path_factory.mktemp("tag"), "particle/tag", episodes=6, quality="random")


@pytest.fixture(scope="module")
def skirmish(tmp_path_factory):  # episodes that end terminally, agents that die
    return record_tiny(tmp_path_factory.mktemp("3m"), "skirmish/3m", episodes=8, quality="random")


def _load(path, env):
    from macflow_arena.train.data import load_device_dataset

    return load_device_dataset(path, env)


def test_the_potential_is_minus_the_mean_distance_to_the_nearest_entity_of_the_group(tag):
    from macflow_arena.train.shaping import potential

    d = _load(tag, "particle/tag")
    layout = dict(d.spec.layout)
    obs = d.obs.numpy()
    want = []
    for o in obs:  # one observation row: [N, D]
        per_agent = [min(np.hypot(*o[i, tok[:2]]) for tok in layout["prey"]) for i in range(len(o))]
        want.append(-2.5 * np.mean(per_agent))
    got = potential(d.obs, d.alive_obs, d.spec.layout, "prey", 2.5)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def test_shaped_rewards_add_the_discounted_change_of_potential_and_telescope(skirmish):
    from macflow_arena.train.shaping import potential, shape_rewards

    d = _load(skirmish, "skirmish/3m")
    group = next(name for name, _ in d.spec.layout if name != "self")
    before = d.rewards.clone()
    gamma = 0.9
    s = shape_rewards(d, d.spec.layout, group, 1.5, gamma)
    assert torch.equal(d.rewards, before)  # the dataset itself is untouched (seeds share it)
    phi = potential(d.obs, d.alive_obs, d.spec.layout, group, 1.5)
    assert bool(d.terminated.any())  # the fixture has terminal steps: Phi is 0 after them
    for e in range(d.num_episodes):
        s0, s1 = int(d.step_start[e]), int(d.step_start[e + 1])
        o0, o1 = int(d.obs_start[e]), int(d.obs_start[e + 1])
        disc = gamma ** np.arange(s1 - s0)
        shaped = float((disc * s.rewards[s0:s1].double().numpy()).sum())
        raw = float((disc * before[s0:s1].double().numpy()).sum())
        end = 0.0 if bool(d.terminated[s1 - 1]) else gamma ** (s1 - s0) * float(phi[o1 - 1])
        assert shaped == pytest.approx(raw + end - float(phi[o0]), abs=1e-4), e
    # n-step returns read the shaped rewards
    assert not torch.equal(s._nstep_targets(3, gamma)[0], d._nstep_targets(3, gamma)[0])


def test_bad_shaping_is_refused_by_name_before_anything_is_written(tag, tmp_path):
    from macflow_arena.train.trainer import TrainError, train

    for algo, text, match in (("bc", "prey", "has no critic"), ("macflow", "predator", "groups: obstacles, predators, prey"),
                              ("macflow", "self", "not an entity group"), ("macflow", "prey:-1", "positive"),
                              ("macflow", "prey:x", "must be a number")):
        out = tmp_path / f"{algo}-{text.replace(':', '_')}"
        with pytest.raises(TrainError, match=match):
            train(tiny_config(tag, out, "particle/tag", algo=algo, shaping=text, steps=2))
        assert not out.exists(), text


def test_a_shaped_run_trains_its_critic_on_the_shaped_rewards_and_records_the_option(tag, tmp_path, monkeypatch):
    from macflow_arena.train.data import DeviceDataset, horizon_gamma
    from macflow_arena.train.shaping import shape_rewards
    from macflow_arena.train.trainer import train

    sampled = []
    real = DeviceDataset.sample_transitions

    def spy(self, *a, **k):
        sampled.append(self.rewards)
        return real(self, *a, **k)

    monkeypatch.setattr(DeviceDataset, "sample_transitions", spy)
    d = _load(tag, "particle/tag")
    want = shape_rewards(d, d.spec.layout, "prey", 2.0, horizon_gamma(d.mean_episode_steps))
    assert not torch.allclose(want.rewards, d.rewards)
    for encoder in ("entity", "flat"):  # flat networks: the recorded layout still gives the positions
        sampled.clear()
        train(tiny_config(tag, tmp_path / encoder, "particle/tag", shaping="prey:2", steps=2, encoder=encoder))
        saved = json.loads((tmp_path / encoder / "config.json").read_text())
        assert saved["train"]["shaping"] == "prey:2"
        assert len(sampled) == 2 and all(torch.allclose(r, want.rewards) for r in sampled), encoder
    from macflow_arena.train.seeds import train_seeds

    sampled.clear()  # seeds in one process share the loaded dataset, flat spec included
    train_seeds(tiny_config(tag, tmp_path / "seeds", "particle/tag", shaping="prey:2", steps=2, encoder="flat"),
                [0, 1], stack="off", log=None)
    assert len(sampled) == 4 and all(torch.allclose(r, want.rewards) for r in sampled)
