"""Recording our envs and others', replay of stored seeds and actions, quality levels."""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena as ma
from macflow_arena.data import Dataset, RecordEpisodes, record_dataset, verify
from macflow_arena.data.card import normalized_score
from macflow_arena.policies import RandomPolicy, ScriptedPolicy


def _run(rec, policy, episodes, seed=0):
    for k in range(episodes):
        obs, _ = rec.reset(seed=seed + k)
        policy.reset(seed + k)
        while rec.agents:
            obs, *_ = rec.step(policy.act({a: obs[a] for a in rec.agents}))


def _replay(env, ep, agents, reward_dtype=np.float64):
    """Step ``env`` from the stored seed with the stored actions; compare obs and rewards bit for bit."""
    obs, _ = env.reset(seed=int(ep["seed"]))
    for _ in range(int(ep["reset_index"])):
        obs, _ = env.reset()
    compared = 0
    for t in range(int(ep["steps"]) + 1):
        if t:
            acts = {a: ep["action"][t - 1, i] for i, a in enumerate(agents) if ep["alive"][t - 1, i]}
            obs, rew, *_ = env.step(acts)
            for i, a in enumerate(agents):
                if ep["alive"][t - 1, i]:
                    assert reward_dtype(rew[a]) == ep["reward"][t - 1, i]
        for i, a in enumerate(agents):
            if a in obs:
                o = obs[a]["observation"] if isinstance(obs[a], dict) else obs[a]
                assert np.array_equal(o, ep["obs"][t, i, : o.size]), (t, a)
                compared += 1
    return compared


def test_replay_of_recorded_particle_episodes_reproduces_obs_and_rewards(tmp_path):
    env = ma.make("particle/spread")
    rec = RecordEpisodes(env, tmp_path / "ds", episodes_per_shard=2, info_keys=["collisions"])
    _run(rec, ScriptedPolicy(rec, seed=1, noise=0.3), 3, seed=7)
    rec.close()
    ds = Dataset(tmp_path / "ds")
    assert ds.header["env_id"] == "particle/spread-v0" and len(ds.header["scenario_sha256"]) == 64
    data = ds.load()
    for ep in data.iter_episodes():
        assert _replay(ma.make("particle/spread"), ep, ds.agents) == 26 * 3


@pytest.mark.parametrize("reseed", [False, True])
def test_batched_recording_replays_in_the_parallel_env(tmp_path, reseed):
    record_dataset("particle/tag", tmp_path / "tag", behaviour={"name": "scripted", "epsilon": 0.3}, quality="medium",
                   episodes=10, num_envs=4, seed=3, episodes_per_shard=4, reseed=reseed)
    ds = Dataset(tmp_path / "tag")
    assert ds.num_episodes == 10 and len(ds.shards) == 3 and verify(ds.path).ok
    data = ds.load()
    if reseed:  # every episode its own seed
        assert data.fields["seed"].tolist() == list(range(3, 13)) and not data.fields["reset_index"].any()
    else:  # world b: seed 3 + b, then auto-resets
        assert data.fields["seed"].tolist() == [3, 4, 5, 6] * 2 + [3, 4]
        assert data.fields["reset_index"].tolist() == [0] * 4 + [1] * 4 + [2] * 2
    for ep in data.iter_episodes():  # the VectorEnv rounds rewards to float32
        _replay(ma.make("particle/tag"), ep, ds.agents, reward_dtype=np.float32)


def test_mpe2_simple_spread(tmp_path):
    simple_spread_v3 = pytest.importorskip("mpe2.simple_spread_v3")
    env = simple_spread_v3.parallel_env(N=3, max_cycles=10, continuous_actions=True)
    rec = RecordEpisodes(env, tmp_path / "mpe", episodes_per_shard=2, policies={a: "random" for a in env.possible_agents})
    _run(rec, RandomPolicy(rec, seed=0), 3)
    rec.close()
    ds = Dataset(tmp_path / "mpe")
    assert ds.env_id == "simple_spread_v3" and ds.num_steps == 30
    data = ds.load()
    assert data.fields["obs"].shape == (33, 3, 18) and data.fields["action"].shape == (30, 3, 5)
    assert data.fields["state"].shape == (33, 54) and data.fields["truncated"][9::10].all()
    ep = data.episode(1)
    twin = simple_spread_v3.parallel_env(N=3, max_cycles=10, continuous_actions=True)
    assert _replay(twin, ep, ds.agents) == 33


def test_skirmish_dict_obs_masks_and_deaths(tmp_path):
    env = ma.make("skirmish/3m")
    rec = RecordEpisodes(env, tmp_path / "sk", episodes_per_shard=4)
    _run(rec, ScriptedPolicy(rec, seed=0, epsilon=0.1), 4)
    rec.close()
    ds = Dataset(tmp_path / "sk")
    data = ds.load()
    assert {"obs", "action_mask", "state"} <= set(data.fields) and data.fields["action_mask"].dtype == np.int8
    alive, acts, masks = data.fields["alive"], data.fields["action"], data.fields["action_mask"]
    for ep in data.iter_episodes():  # every stored action of a live agent was legal under its mask
        live = ep["alive"]
        chosen = np.take_along_axis(ep["action_mask"][:-1], ep["action"][..., None], -1)[..., 0]
        assert (chosen[live] == 1).all()
    assert not alive.all() and acts.shape == alive.shape and masks.shape[:2] == (data.fields["obs"].shape[0], 3)
    assert _replay(ma.make("skirmish/3m"), data.episode(0), ds.agents) > 0


@pytest.mark.parametrize("mode", ["drop", "truncate"])
def test_interrupted_episode_is_dropped_or_marked_truncated(tmp_path, mode):
    rec = RecordEpisodes(ma.make("particle/spread"), tmp_path / mode, on_interrupt=mode)
    pol = ScriptedPolicy(rec, seed=0)
    _run(rec, pol, 2)
    obs, _ = rec.reset(seed=99)
    for _ in range(5):
        obs, *_ = rec.step(pol.act(obs))
    rec.close()  # the window closed / Ctrl-C mid-episode
    data = Dataset(tmp_path / mode).load()
    if mode == "drop":
        assert len(data) == 2 and not data.fields["interrupted"].any()
    else:
        assert len(data) == 3 and data.fields["interrupted"].tolist() == [False, False, True]
        ep = data.episode(2)
        assert int(ep["steps"]) == 5 and ep["truncated"][-1].all() and not ep["truncated"][:-1].any()


def test_quality_levels_are_ordered(tmp_path):
    from macflow_arena.data.suite import record_suite

    logs = []
    out = record_suite("particle/spread", tmp_path, episodes=96, num_envs=96, log=logs.append, eval_episodes=192)
    means = {q: float(np.mean(Dataset(p).returns)) for q, p in out.items()}
    assert means["expert"] > means["medium"] > means["medium-replay"] > means["random"]
    refs = Dataset(out["medium"]).header["reference_returns"]
    assert 35 < normalized_score(means["medium"], refs) < 65
    assert Dataset(out["expert"]).header["quality"] == "expert"
    assert Dataset(out["medium-replay"]).load().fields["policy"][0, 0] == "scripted(eps=1.000)"


def test_recorder_is_itself_a_valid_parallel_env(tmp_path):
    from pettingzoo.test import parallel_api_test

    rec = RecordEpisodes(ma.make("skirmish/3m"), tmp_path / "api", episodes_per_shard=5)
    parallel_api_test(rec, num_cycles=200)
    rec.close()
    assert verify(tmp_path / "api").ok and Dataset(tmp_path / "api").num_episodes >= 1
