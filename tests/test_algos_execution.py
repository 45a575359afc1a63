"""Execution-only options: changed on a trained algorithm, never its training fields."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, tiny  # noqa: E402


def test_macflow_exec_noise_zero_acts_with_the_noise_centre():
    algo = tiny("macflow", False)
    assert algo.config.exec_noise == 0.0  # the default: sampled noise reproduces the data's noise
    algo.set_execution(exec_noise=1.0)
    obs = torch.randn(5, CONT.n_agents, CONT.obs_dim)
    a1 = algo.act(obs, torch.Generator().manual_seed(1))
    a2 = algo.act(obs, torch.Generator().manual_seed(2))
    assert not torch.equal(a1, a2)  # sampled noise: the generator matters
    algo.set_execution(exec_noise=0.0)
    b1 = algo.act(obs, torch.Generator().manual_seed(1))
    b2 = algo.act(obs, torch.Generator().manual_seed(2))
    assert torch.equal(b1, b2)
    z = torch.zeros(5, 3, 3 * CONT.action_dim)
    assert torch.allclose(b1, algo.nets["student"](algo.with_id(obs), z).clamp(-1, 1))


def test_training_fields_cannot_change_after_training():
    algo = tiny("macflow", False)
    with pytest.raises(ValueError, match="cannot change after training.*exec_noise"):
        algo.set_execution(alpha=3.0)
    with pytest.raises(ValueError, match="exec_noise must be >= 0"):
        algo.set_execution(exec_noise=-1.0)
    bc = tiny("bc", False)
    bc.set_execution(stochastic=True)
    assert bc.config.stochastic
