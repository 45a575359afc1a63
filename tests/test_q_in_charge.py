"""MAC-Flow's distillation weight decides who the students follow (benchmarks/quality.md,
sessions 25-26): with the default alpha (30, continuous) they stay with the data's
behaviour; with the Q term in charge (alpha=0.03, lr=0.003, the recipe for noisy data)
they move to the critic's best action.

A one-step bandit: recorded actions uniform in [-1, 1], reward -(a - 0.5)^2, every
episode ends after its step (no bootstrap).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, tiny  # noqa: E402

from macflow_arena.algos import Batch  # noqa: E402

BEST = 0.5


def _bandit(g: torch.Generator, size: int = 128) -> Batch:
    n, d, a = CONT.n_agents, CONT.obs_dim, CONT.action_dim
    obs = torch.randn(size, 2, n, d, generator=g)
    actions = torch.rand(size, 1, n, a, generator=g) * 2 - 1
    rewards = -((actions - BEST) ** 2).mean((2, 3))
    ones = torch.ones(size, 1)
    return Batch(obs, actions, rewards, ones, ones.clone(), torch.ones(size, 2, n))


def _trained_action(alpha: float) -> torch.Tensor:
    algo = tiny("macflow", False, seed=0, alpha=alpha, lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(800):
        algo.update(_bandit(g))
    obs = torch.randn(256, CONT.n_agents, CONT.obs_dim, generator=torch.Generator().manual_seed(9))
    return algo.act(obs, torch.Generator().manual_seed(0))


def test_a_q_term_in_charge_moves_the_students_to_the_critics_best_action():
    in_charge = _trained_action(0.03)
    assert (in_charge - BEST).abs().mean() < 0.1  # measured: 0.026
    nudge = _trained_action(30.0)  # the default: the data's behaviour, whose mean action is 0
    assert nudge.mean().abs() < 0.15  # measured: 0.05
    assert (nudge - BEST).abs().mean() > 0.3  # measured: 0.45
