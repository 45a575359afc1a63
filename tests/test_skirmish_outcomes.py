"""Scripted outcomes over many battles (the VectorEnv runs them side by side).

Seeds are fixed, so the rates are exact repeatable numbers; the thresholds leave
room for small rule changes but catch a broken AI, script or reward.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import macflow_arena
from macflow_arena.policies import RandomPolicy, ScriptedPolicy

BATTLES = 200


@functools.lru_cache(maxsize=None)
def play(env_id: str, policy: str, battles: int = BATTLES, **overrides) -> tuple[float, float]:
    """(win rate, mean return) of ``policy`` over the first ``battles`` battles of a batch."""
    venv = macflow_arena.make_vec(env_id, battles, **dict(overrides))
    obs, _ = venv.reset(seed=10_000)
    pol = ScriptedPolicy(venv, seed=0) if policy == "scripted" else RandomPolicy(venv, seed=0)
    finished = np.zeros(battles, dtype=bool)
    won = np.zeros(battles, dtype=bool)
    ret = np.zeros(battles)
    for _ in range(venv.max_cycles + 1):
        if policy == "scripted":
            act = pol.act_batch(obs)
        else:
            act = pol.act_batch(obs, None, venv.action_space, venv.n_agents)
        obs, rew, term, trunc, info = venv.step(act)
        new = info["done"] & ~finished
        won[new] = info["metrics"]["battle_won"][new]
        ret[new] = info["episode_return"][new]
        finished |= info["done"]
        if finished.all():
            break
    assert finished.all(), "every battle ends within max_cycles"
    return float(won.mean()), float(ret.mean())


def test_focus_fire_beats_the_builtin_ai_on_3m():
    win, ret = play("skirmish/3m", "scripted")
    assert win > 0.8, win
    assert ret > 15.0


def test_5m_vs_6m_is_harder_than_3m():
    assert play("skirmish/5m_vs_6m", "scripted")[0] < play("skirmish/3m", "scripted")[0] - 0.3


def test_random_play_loses_almost_always():
    win, ret = play("skirmish/3m", "random")
    assert win <= 0.02, win
    assert ret < play("skirmish/3m", "scripted")[1] / 3


def test_difficulty_and_focus_ai_order():
    easy = play("skirmish/3m", "scripted", 100, difficulty=1)[0]
    hard = play("skirmish/3m", "scripted", 100, difficulty=7)[0]
    focus = play("skirmish/3m", "scripted", 100, enemy_ai="focus")[0]
    assert easy >= hard > focus


@pytest.mark.parametrize("name", ["8m", "2s3z", "3s5z", "3s_vs_5z", "gen-5v5", "gen-10v10"])
def test_scripted_beats_random_on_every_map(name):
    scripted = play(f"skirmish/{name}", "scripted", 100)
    random = play(f"skirmish/{name}", "random", 100)
    assert scripted[0] >= random[0] + 0.3 and scripted[1] > random[1] + 5.0, (scripted, random)
