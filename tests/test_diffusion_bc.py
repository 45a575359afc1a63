"""Diffusion BC (``diffusion`` with eta=0; quality.md session 24).

With its Q term off nothing reads the critic, so neither it nor the 100-step chain of its TD target
runs (14.2 ms per update against 342 ms, `benchmarks/results/train_speed_cpu_diffusion_bc.md`). Its ``None`` defaults then
take the recipe that reaches BC on spread expert (x0 target, noise 3x the actions, lr 3e-3);
with the Q term they stay Diffusion-QL's (eps target, noise ratio 1, lr 3e-4).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT  # noqa: E402

from macflow_arena.algos import Batch, make, random_batch  # noqa: E402
from macflow_arena.algos.base import saved_config  # noqa: E402
from macflow_arena.algos.diffusion import Diffusion, DiffusionConfig  # noqa: E402


def _make(**kw):
    torch.set_num_threads(1)
    return make("diffusion", CONT, "small", seed=0, hidden=(32, 32), steps=10, **kw)


def test_defaults_follow_the_q_term():
    bc, ql = _make(eta=0.0).config, _make().config
    assert (bc.lr, bc.target, bc.noise_ratio) == (3e-3, "x0", 3.0)
    assert (ql.lr, ql.target, ql.noise_ratio) == (3e-4, "eps", 1.0)
    mine = _make(eta=0.0, lr=1e-3, target="eps", noise_ratio=2.0).config
    assert (mine.lr, mine.target, mine.noise_ratio) == (1e-3, "eps", 2.0)
    for bad, match in (({"target": "v"}, "target"), ({"noise_ratio": 0.0}, "noise_ratio"),
                       ({"sampler": "euler"}, "sampler"), ({"exec_noise": -1.0}, "exec_noise")):
        with pytest.raises(ValueError, match=match):
            _make(**bad)


def test_a_config_saved_before_the_fields_loads_as_it_was_trained():
    old = {"eta": 0.0, "lr": 3e-4}  # the fields an older save lacks take the values it was trained with
    cfg = saved_config(DiffusionConfig, old)
    assert (cfg.target, cfg.noise_ratio) == ("eps", 1.0)


def test_diffusion_bc_trains_no_critic_and_runs_no_chain(monkeypatch):
    algo = _make(eta=0.0)
    critic0 = {k: v.clone() for k, v in algo.nets["critic"].state_dict().items()}
    calls = []
    real = Diffusion.sample
    monkeypatch.setattr(Diffusion, "sample", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    for _ in range(3):
        metrics = algo.update(random_batch(CONT, batch_size=16, horizon=4))
    assert not calls and "critic/loss" not in metrics
    assert all(torch.equal(v, algo.nets["critic"].state_dict()[k]) for k, v in critic0.items())
    with_q = _make()
    with_q.update(random_batch(CONT, batch_size=16, horizon=4))
    assert calls  # the Q version samples a' for its TD target


def test_ddim_from_the_centre_is_deterministic_and_ddpm_is_not():
    algo = _make(eta=0.0)
    obs = torch.randn(8, CONT.n_agents, CONT.obs_dim)
    algo.set_execution(sampler="ddim", exec_noise=0.0)
    a, b = (algo.act(obs, torch.Generator().manual_seed(s)) for s in (0, 1))
    assert torch.equal(a, b)
    algo.set_execution(sampler="ddpm", exec_noise=1.0)
    a, b = (algo.act(obs, torch.Generator().manual_seed(s)) for s in (0, 1))
    assert not torch.equal(a, b)


def test_diffusion_bc_lands_on_a_deterministic_action():
    """Noiseless data (one action a* whatever the observation): the default diffusion BC samples a*."""
    a_star = torch.tensor([0.6, -0.4])
    algo = _make(eta=0.0)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        obs = torch.randn(64, 2, CONT.n_agents, CONT.obs_dim, generator=g)
        algo.update(Batch(obs=obs, actions=a_star.expand(64, 1, CONT.n_agents, 2).clone(), rewards=torch.zeros(64, 1),
                          terminated=torch.zeros(64, 1), mask=torch.ones(64, 1), alive=torch.ones(64, 2, CONT.n_agents)))
    out = algo.act(torch.randn(128, CONT.n_agents, CONT.obs_dim, generator=g), torch.Generator().manual_seed(0))
    assert (out - a_star).abs().max() < 0.1
