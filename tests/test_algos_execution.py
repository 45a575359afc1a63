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


@pytest.mark.parametrize("discrete", [False, True])
def test_macflow_candidates_each_agent_keeps_its_critics_best(discrete):
    """``exec_candidates=M``: M student actions per agent (noises: the centre, then draws from the
    agreed generator); agent i keeps the one its own critic Q_i(o_i, a) ranks best."""
    from _algo_helpers import DISC

    spec = DISC if discrete else CONT
    algo = tiny("macflow", discrete)
    algo.set_execution(exec_candidates=6)
    obs = torch.randn(4, spec.n_agents, spec.obs_dim)
    avail = torch.rand(4, spec.n_agents, spec.action_dim) > 0.3 if discrete else None
    if discrete:
        avail[..., 0] = True
    got = algo.act(obs, torch.Generator().manual_seed(3), avail=avail)
    z = torch.randn((6, 4, spec.n_agents, spec.action_dim), generator=torch.Generator().manual_seed(3))
    z[0] = 0.0  # exec_noise 0: the first candidate is the centre
    o = algo.with_id(obs)
    with torch.no_grad():
        out = torch.stack([algo.nets["student"](o, algo.z_in(z[k])) for k in range(6)])
        if discrete:
            a = out.masked_fill(~avail, -1e9).argmax(-1)
            q = algo.nets["critic"](o).mean(0)
            q = torch.stack([q.gather(-1, a[k][..., None])[..., 0] for k in range(6)])
        else:
            a = out.clamp(-1, 1)
            q = torch.stack([algo.nets["critic"](o, a[k]).mean(0) for k in range(6)])
    best = q.argmax(0)
    want = torch.stack([torch.stack([a[best[b, i], b, i] for i in range(spec.n_agents)]) for b in range(4)])
    assert torch.allclose(got.float(), want.float(), atol=1e-6)
    assert not torch.equal(best, torch.zeros_like(best))  # the draws matter, not only the centre
    # Decentralized: agent 1's choice reads only o_1 (and the agreed noise).
    obs2 = obs.clone()
    obs2[:, [0, 2]] = torch.randn(4, 2, spec.obs_dim)
    got2 = algo.act(obs2, torch.Generator().manual_seed(3), avail=avail)
    assert torch.equal(got2[:, 1], got[:, 1])
    with pytest.raises(ValueError, match="exec_candidates"):
        algo.set_execution(exec_candidates=0)
