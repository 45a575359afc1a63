"""The policy's weight average (config field ``ema`` of bc and macflow): what it averages,
that the team plays it, and that checkpoints, teams and seed stacks carry it."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import single_and_stacked, tiny  # noqa: E402

from macflow_arena.algos import random_batch  # noqa: E402
from macflow_arena.teams.weights import act_state  # noqa: E402

CASES = [("bc", False, "policy"), ("bc", True, "policy"), ("macflow", False, "student"), ("macflow", True, "student")]
IDS = [f"{n}-{'disc' if d else 'cont'}" for n, d, _ in CASES]


def _obs(algo, n=5):
    g = torch.Generator().manual_seed(3)
    obs = torch.randn(n, algo.spec.n_agents, algo.spec.obs_dim, generator=g)
    avail = None
    if algo.spec.discrete:
        avail = torch.rand(n, algo.spec.n_agents, algo.spec.action_dim, generator=g) < 0.6
        avail[..., 0] = True
    return obs, avail


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("name,discrete,net", CASES, ids=IDS)
def test_the_average_follows_the_polyak_recurrence_and_is_what_the_team_plays(name, discrete, net):
    rate = 0.25
    algo = tiny(name, discrete, seed=1, ema=rate)
    assert f"ema_{net}" in algo.nets and algo.act_module(net) is algo.nets[f"ema_{net}"]
    assert not any(p.requires_grad for p in algo.nets[f"ema_{net}"].parameters())
    trained = {id(p) for o in algo.optimizers.values() for g in o.param_groups for p in g["params"]}
    assert not trained & {id(p) for p in algo.nets[f"ema_{net}"].parameters()}
    avg = _params(algo.nets[net])  # the average starts at the initial weights
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        algo.update(random_batch(algo.spec, 16, 1, generator=g))
        avg = [a + rate * (w - a) for a, w in zip(avg, _params(algo.nets[net]))]
    for a, p in zip(avg, algo.nets[f"ema_{net}"].parameters()):
        torch.testing.assert_close(p, a)
    # act() runs the average: the same as a twin whose live weights are the average ...
    twin = tiny(name, discrete, seed=2)
    twin.nets[net].load_state_dict(algo.nets[f"ema_{net}"].state_dict())
    obs, avail = _obs(algo)
    out = algo.act(obs, torch.Generator().manual_seed(7), avail)
    assert torch.equal(out, twin.act(obs, torch.Generator().manual_seed(7), avail))
    # ... and not the live weights (which differ from the average after three updates)
    live = tiny(name, discrete, seed=2)
    live.nets[net].load_state_dict(algo.nets[net].state_dict())
    raw = live.nets[net](live.with_id(obs), *([] if name == "bc" else [live.z_in(torch.zeros(5, 3, algo.spec.action_dim))]))
    avg_out = twin.nets[net](twin.with_id(obs), *([] if name == "bc" else [twin.z_in(torch.zeros(5, 3, algo.spec.action_dim))]))
    raw, avg_out = (raw[0], avg_out[0]) if isinstance(raw, tuple) else (raw, avg_out)
    assert not torch.allclose(raw, avg_out)


def test_no_average_by_default_and_bad_rates_are_refused():
    for name in ("bc", "macflow"):
        algo = tiny(name, False)
        assert algo.config.ema == 0 and not any(k.startswith("ema_") for k in algo.nets)
        assert not any(k.startswith("nets.ema_") for k in algo.state_dict())
        for bad in (1.0, -0.1):
            with pytest.raises(ValueError, match="ema must be in"):
                tiny(name, False, ema=bad)


@pytest.mark.parametrize("name,discrete,net", CASES[::2], ids=IDS[::2])
def test_checkpoints_and_teams_carry_the_average(name, discrete, net):
    algo = tiny(name, discrete, seed=1, ema=0.5)
    g = torch.Generator().manual_seed(0)
    for _ in range(2):
        algo.update(random_batch(algo.spec, 16, 1, generator=g))
    sd = algo.state_dict()
    assert any(k.startswith(f"nets.ema_{net}.") for k in sd)
    again = tiny(name, discrete, seed=5, ema=0.5)
    again.load_state_dict(sd)
    for a, b in zip(algo.nets[f"ema_{net}"].parameters(), again.nets[f"ema_{net}"].parameters()):
        assert torch.equal(a, b)
    # the team's weights are the average, under the act net's own name
    team = act_state(algo)
    assert set(team) == {f"{net}.{k}" for k in algo.nets[net].state_dict()}
    for k, v in algo.nets[f"ema_{net}"].state_dict().items():
        assert torch.equal(team[f"{net}.{k}"], v)


def test_a_seed_stack_averages_each_seed_as_its_single_run():
    single, stack = single_and_stacked("macflow", False, [0, 4], ema=0.3)
    for a, b in zip(single, stack.algos):
        for p, q in zip(a.nets["ema_student"].parameters(), b.nets["ema_student"].parameters()):
            torch.testing.assert_close(q, p, rtol=1e-3, atol=1e-4)
