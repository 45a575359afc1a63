"""Paired comparisons: two teams scored on the same held-out episodes (`eval --against`,
`macflow_arena.train.paired`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from macflow_arena.train.paired import PairingError, group_difference, paired_difference


def _ev(returns, seed=7, env="particle/spread-v0", refs=None):
    r = {"env_id": env, "seed": seed, "episodes": len(returns), "num_envs": len(returns),
         "episode_returns": list(map(float, returns))}
    if refs:
        r["reference_returns"] = refs
    return r


def test_a_constant_shift_is_measured_exactly_and_identical_teams_differ_by_nothing():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 50, size=64)  # large episode luck, shared by both sides
    d = paired_difference(_ev(base + 2.0, refs={"random": 0.0, "expert": 50.0}), _ev(base))
    assert d["difference"] == pytest.approx(2.0)
    assert d["ci95"] == pytest.approx([2.0, 2.0])  # the shared luck is gone from the difference
    assert d["normalized_difference"] == pytest.approx(4.0) and d["normalized_ci95"] == pytest.approx([4.0, 4.0])
    assert d["episodes_differing"] == 64
    same = paired_difference(_ev(base), _ev(base))
    assert same["difference"] == 0 and same["ci95"] == [0, 0] and same["episodes_differing"] == 0


def test_group_ci_holds_the_seeds_spread_and_the_episode_ci_does_not():
    rng = np.random.default_rng(1)
    luck = rng.normal(0, 30, size=128)
    a = [_ev(luck + off) for off in (-3.0, 0.0, 3.0, 6.0, -6.0)]  # training seeds that differ a lot
    b = [_ev(luck) for _ in range(5)]
    d = group_difference(a, b)
    assert d["difference"] == pytest.approx(0.0, abs=1e-9)
    lo, hi = d["ci95"]
    assert lo < -1.0 and hi > 1.0  # the seeds' spread (sd 4.7 over 5 seeds) is in the CI
    assert d["ci95_episodes"] == pytest.approx([0.0, 0.0], abs=1e-9)  # per episode the group means agree
    assert d["seeds_a"] == d["seeds_b"] == 5


def test_unpaired_evaluations_are_refused_with_the_fix():
    with pytest.raises(PairingError, match="same env, --episodes and --seed"):
        paired_difference(_ev([1.0, 2.0], seed=1), _ev([1.0, 2.0], seed=2))
    with pytest.raises(PairingError, match="episodes"):
        paired_difference(_ev([1.0, 2.0]), _ev([1.0, 2.0, 3.0]))
    no_returns = _ev([1.0, 2.0])
    del no_returns["episode_returns"]
    with pytest.raises(PairingError, match="keep_returns=True"):
        paired_difference(_ev([1.0, 2.0]), no_returns)


def test_cli_against_pairs_the_episodes_of_two_shipped_teams(capsys):
    from macflow_arena.cli import main

    assert main(["eval", "spread-macflow", "--against", "spread-macflow", "--episodes", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    p = out["paired"]
    assert p["difference"] == 0 and p["episodes_differing"] == 0  # a team against itself: the same episodes
    assert "episode_returns" not in out["run"]
    assert main(["eval", "spread-macflow", "--against", "spread-bc", "--episodes", "8"]) == 0
    text = capsys.readouterr().out
    assert "spread-macflow - spread-bc" in text and "paired 95% CI" in text
    assert main(["eval", "spread-macflow", "--against", "tag-bc", "--episodes", "4"]) == 2
    assert "same env" in capsys.readouterr().err
