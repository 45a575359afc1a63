"""Action masks: masked actions are never chosen, an all-zero mask raises, and the
training losses respect the masks."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import DISC, expert_dataset, minibatch, tiny  # noqa: E402

DISCRETE = [
    ("macflow", {}),
    ("macflow", {"noise": "private", "teacher": "per_agent"}),
    ("bc", {}),
    ("bc", {"stochastic": True}),
    ("flowbc", {}),
    ("vdn_cql", {}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for n, o in DISCRETE]


def _random_avail(n_rows: int, g: torch.Generator) -> torch.Tensor:
    avail = torch.rand(n_rows, DISC.n_agents, DISC.action_dim, generator=g) < 0.3
    keep = torch.randint(0, DISC.action_dim, (n_rows, DISC.n_agents), generator=g)
    avail.scatter_(-1, keep[..., None], True)  # at least one legal action per agent
    return avail


@pytest.mark.parametrize("case", DISCRETE, ids=IDS)
def test_masked_actions_never_chosen(case):
    name, overrides = case
    algo = tiny(name, True, **overrides)
    # A little training so the policy has preferences (which the masks must override).
    data = expert_dataset(DISC, episodes=16)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        algo.update(minibatch(data, 8, g))
    obs = torch.randn(10_000, DISC.n_agents, DISC.obs_dim, generator=g)
    avail = _random_avail(10_000, g)
    a = algo.act(obs, torch.Generator().manual_seed(1), avail=avail)
    assert a.shape == (10_000, DISC.n_agents)
    chosen = avail.gather(-1, a[..., None])[..., 0]
    assert bool(chosen.all()), f"{int((~chosen).sum())} masked actions chosen"
    # A single legal action is always the one taken.
    one = torch.zeros_like(avail)
    only = torch.randint(0, DISC.action_dim, (10_000, DISC.n_agents), generator=g)
    one.scatter_(-1, only[..., None], True)
    assert torch.equal(algo.act(obs, torch.Generator().manual_seed(2), avail=one), only)


@pytest.mark.parametrize("case", DISCRETE, ids=IDS)
def test_all_zero_mask_raises(case):
    name, overrides = case
    algo = tiny(name, True, **overrides)
    obs = torch.randn(4, DISC.n_agents, DISC.obs_dim)
    avail = torch.ones(4, DISC.n_agents, DISC.action_dim, dtype=torch.bool)
    avail[2, 1] = False
    with pytest.raises(ValueError, match="agent 1 in row 2 has no available action"):
        algo.act(obs, torch.Generator().manual_seed(0), avail=avail)
    with pytest.raises(ValueError, match="avail must have shape"):
        algo.act(obs, torch.Generator().manual_seed(0), avail=avail[:, :, :2])


def test_continuous_rejects_avail():
    algo = tiny("macflow", False)
    with pytest.raises(ValueError, match="discrete"):
        algo.act(torch.zeros(1, 3, 6), torch.Generator(), avail=torch.ones(1, 3, 2, dtype=torch.bool))


def test_training_batch_masks_checked():
    from macflow_arena.algos.batch import BatchError

    b = expert_dataset(DISC, episodes=4).clone()
    t = int(b.mask[0].nonzero()[0])
    a = int(b.actions[0, t, 0])
    bad = b.clone()
    bad.avail[0, t, 0, a] = False
    with pytest.raises(BatchError, match="taken action is not available"):
        bad.validate(DISC)
    bad = b.clone()
    bad.avail[0, t, 0] = False
    with pytest.raises(BatchError, match="all-zero mask"):
        bad.validate(DISC)


def test_student_gradient_respects_mask():
    """The expected-Q actor term and the distillation loss put no probability or
    gradient on masked actions: the masked logits' gradient is exactly zero."""
    from macflow_arena.algos import random_batch

    algo = tiny("macflow", True)
    b = algo.prepare(random_batch(DISC, 4, 5, generator=torch.Generator().manual_seed(0), pad=False))
    out = {}

    def hook(module, inputs, output):
        if output.requires_grad:  # the actor's call (the TD target's next actions run without gradient)
            output.retain_grad()
            out["logits"] = output

    h = algo.nets["student"].register_forward_hook(hook)
    total, _ = algo.losses(b)
    h.remove()
    total.backward()
    grad = out["logits"].grad  # [k, T, N, n]: the actor's rows
    masked = ~b.avail[: grad.shape[0], :-1]
    assert bool(masked.any())
    assert grad[masked].abs().max().item() == 0.0
    assert grad[~masked].abs().max().item() > 0.0
