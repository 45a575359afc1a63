"""The scripted experts beat random play by a stated margin on every particle scenario.

Each comparison runs the same 30 seeded episodes (VectorEnv worlds seeded
1000..1029) for the scripted expert and for uniform random actions. Both are
seeded, so the numbers are reproducible; the margins leave slack below what
was measured (in the comments) so that tuning can move them a little without
failing, but not lose the skill.
"""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena
from macflow_arena.policies import RandomPolicy, ScriptedPolicy
from _env_helpers import PARTICLE_IDS

EPISODES, SEED = 30, 1000


def _episodes(env_id, kind, **overrides):
    """One episode in each of 30 worlds: team return, last-step metrics, catches summed."""
    venv = macflow_arena.make_vec(env_id, EPISODES, **overrides)
    if kind == "scripted":
        policy = ScriptedPolicy(macflow_arena.make(env_id, **overrides), seed=SEED)
        act = lambda obs, first: policy.act_batch(obs, first)  # noqa: E731
    else:
        policy = RandomPolicy(venv, seed=SEED)
        act = lambda obs, first: policy.act_batch(obs, first, venv.action_space, venv.n_agents)  # noqa: E731
    obs, _ = venv.reset(seed=SEED)
    first = np.ones(EPISODES, dtype=bool)
    ret = np.zeros(EPISODES)
    catches = np.zeros(EPISODES)
    for t in range(venv.max_cycles):
        obs, rew, term, trunc, info = venv.step(act(obs, first))
        first[:] = False
        ret += rew[:, 0]
        catches += info["metrics"].get("catches", 0)
        assert info["done"].all() == (t == venv.max_cycles - 1)
    return {"return": ret, "catches": catches, **{f"final_{k}": v for k, v in info["metrics"].items()}}


def _check_spread(s, r, discrete):
    # measured: scripted -11.6 (discrete -13.3), random -52.8 (-51.5)
    assert s["return"].mean() > r["return"].mean() + 20, (s["return"].mean(), r["return"].mean())
    assert s["return"].mean() > -20


def _check_cover(s, r, discrete):
    # success = every landmark holds exactly one agent at the last step
    # measured: scripted 1.00 (discrete 1.00), random 0.00
    assert s["final_covered"].mean() >= 0.9, s["final_covered"].mean()
    assert r["final_covered"].mean() <= 0.1, r["final_covered"].mean()
    # measured returns: scripted 22.7 (21.5), random -1.8 (-1.9)
    assert s["return"].mean() > r["return"].mean() + 15


def _check_tag(s, r, discrete):
    # fraction of episodes with at least one catch; measured: scripted 0.87 (discrete 0.73), random 0.00
    caught_s, caught_r = (s["catches"] > 0).mean(), (r["catches"] > 0).mean()
    assert caught_s >= (0.5 if discrete else 0.6), caught_s
    assert caught_r <= 0.2, caught_r
    # mean predator-prey contact steps per episode; measured: scripted 7.4 (5.4), random 0.0
    assert s["catches"].mean() > r["catches"].mean() + 3


CHECKS = {"spread": _check_spread, "cover": _check_cover, "tag": _check_tag}


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_scripted_beats_random(env_id, discrete):
    task = macflow_arena.make(env_id).task.name
    assert task in CHECKS, f"no scripted-vs-random margins for particle task {task!r}: add them here"
    overrides = {"discrete_actions": True} if discrete else {}
    scripted, random = _episodes(env_id, "scripted", **overrides), _episodes(env_id, "random", **overrides)
    CHECKS[task](scripted, random, discrete)


@pytest.mark.parametrize("env_id", ["particle/spread", "particle/tag"])
def test_scripted_policy_same_through_parallel_env(env_id):
    """ScriptedPolicy.act on a ParallelEnv's dicts plays exactly like act_batch on the VectorEnv
    (these two scripts draw no random numbers)."""
    batch = _episodes(env_id, "scripted")
    env = macflow_arena.make(env_id)
    policy = ScriptedPolicy(env, seed=SEED)
    for b in range(3):
        obs, _ = env.reset(seed=SEED + b)
        policy.reset()
        ret = 0.0
        while env.agents:
            obs, rew, *_ = env.step(policy.act(obs))
            ret += np.float32(rew[env.possible_agents[0]])
        assert ret == pytest.approx(batch["return"][b], rel=1e-5, abs=1e-4)


def test_scripted_tag_external_prey_seat():
    """With the prey as a seat the script plays both sides; the flee script keeps it alive longer than standing still."""
    env = macflow_arena.make("particle/tag", prey_control="external")
    policy = ScriptedPolicy(env, seed=0)
    caught = {"flee": 0, "still": 0}
    for mode in caught:
        for ep in range(4):
            obs, _ = env.reset(seed=ep)
            while env.agents:
                acts = policy.act(obs)
                if mode == "still":
                    acts["prey_0"] = np.zeros(2, dtype=np.float32)
                obs, rew, _, _, infos = env.step(acts)
                caught[mode] += infos["prey_0"]["catches"]
    assert caught["flee"] < caught["still"], caught
