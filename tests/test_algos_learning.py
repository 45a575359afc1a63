"""Each algorithm's loss falls on a small learnable dataset; non-finite values never
reach the weights."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, expert_dataset, minibatch, spec_for, tiny  # noqa: E402

from macflow_arena.algos.batch import BatchError  # noqa: E402

# The losses that must fall (first 20 updates vs last 20), per case.
FALLS = {
    # With the x1 flow target an untrained teacher predicts ~0, so distillation starts near 0
    # and grows while the teacher learns; test_learning_core checks the student tracks the teacher.
    "macflow-cont": ["actor/flow_loss", "critic/loss"],
    "macflow-cont-peragent-private": ["actor/flow_loss", "critic/loss"],
    # Discrete distillation chases the teacher's argmax labels, which change while
    # the teacher learns: it must fall, by less.
    "macflow-disc": ["actor/flow_loss", ("actor/distill_loss", 0.03), "critic/loss"],
    "bc-cont": ["actor/loss", "actor/mse"],
    "bc-disc": ["actor/ce"],
    "td3bc-cont": ["critic/loss", "actor/loss"],
    "flowbc-cont": ["actor/flow_loss"],
    "flowbc-disc": ["actor/flow_loss"],
    "diffusion-cont": ["actor/bc_loss", "critic/loss"],
    "vdn_cql-disc": ["critic/td_loss", "critic/cql_loss"],
}


def _avg(hist, key):
    vals = [m[key] for m in hist if key in m]
    assert vals, key
    return sum(vals) / len(vals)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_loss_falls(case):
    cid, name, discrete, overrides = case
    spec = spec_for(discrete)
    data = expert_dataset(spec)
    algo = tiny(name, discrete, lr=1e-3, **overrides)
    g = torch.Generator().manual_seed(1)
    hist = [algo.update(minibatch(data, 16, g)) for _ in range(120)]
    for m in hist:
        assert all(v == v and abs(v) != float("inf") for v in m.values()), m
    for item in FALLS[cid]:
        key, frac = item if isinstance(item, tuple) else (item, 0.1)
        first, last = _avg(hist[:20], key), _avg(hist[-20:], key)
        assert last < first - frac * abs(first), f"{cid}: {key} did not fall by {frac:.0%}: {first:.4f} -> {last:.4f}"
    assert algo.step == 120
    # Target networks move only by Polyak averaging: never part of an autograd graph.
    for k, m in algo.nets.items():
        if k.startswith("target_"):
            assert all(not p.requires_grad and p.grad is None and p.grad_fn is None for p in m.parameters()), k


NAN_CASES = [(c, f) for c in CASES if c[0] in ("macflow-cont", "macflow-disc", "bc-cont") for f in ("obs", "actions", "rewards", "alive") if not (c[2] and f == "actions")]


@pytest.mark.parametrize("case,field", NAN_CASES, ids=[f"{c[0]}-{f}" for c, f in NAN_CASES])
def test_nan_input_rejected_naming_field(case, field):
    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    b = expert_dataset(spec, episodes=4).clone()
    getattr(b, field).view(-1)[0] = float("nan")
    algo = tiny(name, discrete, **overrides)
    before = {k: v.clone() for k, v in algo.state_dict().items()}
    with pytest.raises(BatchError, match=rf"^{field}: contains NaN"):
        algo.update(b)
    after = algo.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert algo.step == 0


def test_nonfinite_loss_raises_and_does_not_step():
    algo = tiny("macflow", False)
    b = expert_dataset(spec_for(False), episodes=4)
    with torch.no_grad():
        next(algo.nets["student"].parameters()).view(-1)[0] = float("inf")
    before = {k: v.clone() for k, v in algo.state_dict().items()}
    with pytest.raises(FloatingPointError, match="non-finite"):
        algo.update(b)
    after = algo.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == ["rng.train"]  # no weight or optimizer state moved
    assert algo.step == 0


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_act_shapes_and_bounds(case):
    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    algo = tiny(name, discrete, **overrides)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(7, spec.n_agents, spec.obs_dim)
    a = algo.act(obs, g)
    if discrete:
        assert a.shape == (7, spec.n_agents) and a.dtype == torch.int64
        assert bool(((a >= 0) & (a < spec.action_dim)).all())
    else:
        assert a.shape == (7, spec.n_agents, spec.action_dim) and a.dtype == torch.float32
        assert bool((a.abs() <= 1).all())
    bad = obs.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="obs contains NaN"):
        algo.act(bad, g)
    with pytest.raises(ValueError, match="obs must have shape"):
        algo.act(obs[:, :1], g)


def test_act_is_seeded_and_decentralized():
    """Same generator seed, same actions; agent i's action does not change when
    another agent's observation does (private and shared noise)."""
    for noise in ("private", "shared"):
        algo = tiny("macflow", False, noise=noise)
        obs = torch.randn(5, 3, 6)
        a1 = algo.act(obs, torch.Generator().manual_seed(3))
        a2 = algo.act(obs, torch.Generator().manual_seed(3))
        assert torch.equal(a1, a2)
        obs2 = obs.clone()
        obs2[:, 1:] = torch.randn(5, 2, 6)
        a3 = algo.act(obs2, torch.Generator().manual_seed(3))
        assert torch.equal(a1[:, 0], a3[:, 0])
        assert not algo.centralized_execution
