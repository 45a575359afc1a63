"""Terminal handling and padding: the TD target bootstraps with the flag of the
step taken (truncation is not terminal), and padded steps add zero loss."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, CRITIC_ALGOS, spec_for, supported, tiny  # noqa: E402

from macflow_arena.algos import Batch, random_batch  # noqa: E402

TARGET = {"macflow": "target_critic", "td3bc": "target_critic", "diffusion": "target_critic", "vdn_cql": "target_q"}
C = 2.5  # the constant value the target critic is set to


def _constant_target(algo, value: float) -> None:
    """Make the target critic output ``value`` for every input and action."""
    with torch.no_grad():
        for head in algo.nets[TARGET[algo.name]].heads:
            head.trunk[-1][-1].weight.zero_()
            head.trunk[-1][-1].bias.fill_(value)


def _two_episode_batch(spec) -> Batch:
    """Window 0 ends by termination at step 1, window 1 by truncation at step 1
    (its obs[2] is the final observation), both padded at step 2."""
    g = torch.Generator().manual_seed(0)
    b = random_batch(spec, 2, 3, generator=g, pad=False)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    terminated = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    rewards = torch.tensor([[0.5, -1.0, 0.0], [0.25, 2.0, 0.0]])
    alive = torch.ones(2, 4, spec.n_agents)
    alive[1, 1, 2] = 0.0  # agent 2 of window 1 is dead at obs 1 (the target of step 0)
    return b.replace(mask=mask, terminated=terminated, rewards=rewards, alive=alive).validate(spec)


CRITIC_CASES = [(n, d) for n in CRITIC_ALGOS for d in (False, True) if supported(n, d)]


@pytest.mark.parametrize("name,discrete", CRITIC_CASES, ids=[f"{n}-{'disc' if d else 'cont'}" for n, d in CRITIC_CASES])
def test_td_target_terminated_vs_truncated(name, discrete):
    spec = spec_for(discrete)
    algo = tiny(name, discrete)
    _constant_target(algo, C)
    b = _two_episode_batch(spec)
    y = algo.td_target(b)
    gamma = algo.config.gamma
    assert gamma == (0.99 if discrete else 0.995)
    # Next-state value under additive mixing over alive agents: the mean for
    # continuous actions (C whatever the number alive), the sum for discrete.
    n_alive_next = b.alive[:, 1:].sum(-1)
    v = n_alive_next * C if discrete else torch.full_like(n_alive_next, C)
    # Terminated step: no bootstrap at all.
    assert y[0, 1].item() == pytest.approx(-1.0, abs=1e-6)
    # Truncated step (time limit): bootstraps from the final observation.
    assert y[1, 1].item() == pytest.approx(2.0 + gamma * v[1, 1].item(), abs=1e-5)
    # Ordinary steps bootstrap; a dead agent drops out of the sum (discrete).
    assert y[0, 0].item() == pytest.approx(0.5 + gamma * v[0, 0].item(), abs=1e-5)
    assert y[1, 0].item() == pytest.approx(0.25 + gamma * v[1, 0].item(), abs=1e-5)
    if discrete:
        assert v[1, 0].item() == 2 * C


def _scramble_padding(b: Batch, spec, seed: int = 7) -> Batch:
    """Random values everywhere the mask says padding (contract-valid)."""
    g = torch.Generator().manual_seed(seed)
    b = b.clone()
    pad_t = b.mask == 0  # [B, T]
    pad_o = b.obs_valid() == 0  # [B, T+1]
    b.obs[pad_o] = torch.randn(b.obs[pad_o].shape, generator=g) * 3
    b.rewards[pad_t] = torch.randn(b.rewards[pad_t].shape, generator=g) * 3
    b.alive[pad_o] = (torch.rand(b.alive[pad_o].shape, generator=g) < 0.5).float()
    if spec.discrete:
        b.actions[pad_t] = torch.randint(0, spec.action_dim, b.actions[pad_t].shape, generator=g)
        b.avail[pad_o] = torch.rand(b.avail[pad_o].shape, generator=g) < 0.3
    else:
        b.actions[pad_t] = torch.rand(b.actions[pad_t].shape, generator=g) * 2 - 1
    return b.validate(spec)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_padded_steps_add_zero_loss(case):
    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    b = random_batch(spec, 6, 5, generator=torch.Generator().manual_seed(3))
    assert (b.mask == 0).any() and (b.mask == 1).any()
    b2 = _scramble_padding(b, spec)
    assert not torch.equal(b.obs, b2.obs)
    a1, a2 = tiny(name, discrete, **overrides), tiny(name, discrete, **overrides)
    for _ in range(3):
        m1, m2 = a1.update(b), a2.update(b2)
        assert m1 == m2
    s1, s2 = a1.state_dict(), a2.state_dict()
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k


def test_mask_zero_windows_only_give_zero_loss():
    """A window that is all padding contributes nothing: adding it changes nothing."""
    spec = spec_for(False)
    b = random_batch(spec, 3, 4, generator=torch.Generator().manual_seed(5), pad=False)
    algo = tiny("bc", False)
    loss1, _ = algo.losses(b)
    extra = random_batch(spec, 1, 4, generator=torch.Generator().manual_seed(6), pad=False)
    extra = extra.replace(mask=torch.zeros(1, 4), terminated=torch.zeros(1, 4))
    both = Batch(**{k: (None if v is None else torch.cat([v, getattr(extra, k)])) for k, v in b.__dict__.items()})
    loss2, _ = algo.losses(both)
    assert torch.allclose(loss1, loss2, rtol=0, atol=1e-6)
