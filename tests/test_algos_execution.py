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


def _scores(q, rank):
    """Reference ranking of candidates from ensemble values q [M, E, ...] (candidate 0: the centre)."""
    if rank == "mean":
        return q.mean(1)
    low = q.min(1).values
    if rank == "safe":  # the centre is judged by its most favourable head, the others by their least
        low[0] = q[0].max(0).values
    return low


@pytest.mark.parametrize("rank", ["mean", "min", "safe"])
@pytest.mark.parametrize("discrete", [False, True])
def test_macflow_candidates_each_agent_keeps_its_critics_best(discrete, rank):
    """``exec_candidates=M``: M student actions per agent (noises: the centre, then draws from the
    agreed generator); agent i keeps the one its own critic Q_i(o_i, a) ranks best (``rank``: by the
    heads' mean, their min, or 'safe': a draw must beat the centre's best head with its worst)."""
    from _algo_helpers import DISC

    spec = DISC if discrete else CONT
    algo = tiny("macflow", discrete)
    with torch.no_grad():  # an untrained student barely reads its noise: make the candidates differ
        algo.nets["student"].net.extra_proj.weight.mul_(10.0)
    algo.set_execution(exec_candidates=6, rank=rank)
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
            q = algo.nets["critic"](o)  # [E, B, N, n]
            q = torch.stack([q.gather(-1, a[k].expand(q.shape[0], *a[k].shape)[..., None])[..., 0] for k in range(6)])
        else:
            a = out.clamp(-1, 1)
            q = torch.stack([algo.nets["critic"](o, a[k]) for k in range(6)])  # [M, E, B, N]
    best = _scores(q, rank).argmax(0)
    want = torch.stack([torch.stack([a[best[b, i], b, i] for i in range(spec.n_agents)]) for b in range(4)])
    assert torch.allclose(got.float(), want.float(), atol=1e-6)
    if rank != "safe":  # (untrained heads disagree everywhere: 'safe' keeps the centre; see the next test)
        assert not torch.equal(best, torch.zeros_like(best))  # the draws matter, not only the centre
    # Decentralized: agent 1's choice reads only o_1 (and the agreed noise).
    obs2 = obs.clone()
    obs2[:, [0, 2]] = torch.randn(4, 2, spec.obs_dim)
    got2 = algo.act(obs2, torch.Generator().manual_seed(3), avail=avail)
    assert torch.equal(got2[:, 1], got[:, 1])
    with pytest.raises(ValueError, match="exec_candidates"):
        algo.set_execution(exec_candidates=0)
    with pytest.raises(ValueError, match="rank"):
        algo.set_execution(rank="max")


def test_rank_scores_safe_keeps_the_centre_unless_every_head_prefers_a_draw():
    from macflow_arena.algos.macflow import rank_scores

    # [E=2 heads, M=3 candidates]: candidate 1 is better by head 0 only, candidate 2 by both heads
    q = torch.tensor([[1.0, 3.0, 2.5], [2.0, 1.0, 2.2]])
    assert rank_scores(q, "mean").argmax(0) == 2 and rank_scores(q, "min").argmax(0) == 2
    assert rank_scores(q, "safe").argmax(0) == 2
    q2 = torch.tensor([[1.0, 3.0, 1.5], [2.0, 1.0, 1.9]])  # no draw beats the centre's best head (2.0) everywhere
    assert rank_scores(q2, "mean").argmax(0) == 1 and rank_scores(q2, "safe").argmax(0) == 0
    assert torch.equal(rank_scores(q2, "min"), torch.tensor([1.0, 1.0, 1.5]))


@pytest.mark.parametrize("discrete", [False, True], ids=["cont", "disc"])
def test_macflow_pick_term_regresses_the_centre_to_the_critics_best(discrete):
    """``pick_weight``: the pick term is the centre's error against the candidate (the centre, then
    M - 1 draws of the training generator) its own critic ranks best, each agent on its own."""
    import torch.nn.functional as F

    from _algo_helpers import DISC
    from macflow_arena.algos import random_batch
    from macflow_arena.algos.nets import masked_argmax, masked_logits

    spec = DISC if discrete else CONT
    algo = tiny("macflow", discrete, pick_weight=5.0, pick_candidates=6)
    b = algo.prepare(random_batch(spec, 8, 1, generator=torch.Generator().manual_seed(1)))
    o = algo.with_id(b.obs[:, :-1])
    w = b.mask[..., None] * b.alive[:, :-1]
    avail = b.avail[:, :-1] if discrete else None
    state = algo.gen.get_state()
    with torch.no_grad():
        mem_s = algo.nets["student"].memory(o)
        q_disc = algo.nets["critic"](o) if discrete else None  # [E, ...]
        mem_c = None if discrete else algo.nets["critic"].memory(o)
        got = algo._pick_loss(o, w, mem_s, mem_c, q_disc, avail)
    algo.gen.set_state(state)
    z = torch.cat([torch.zeros(1, *o.shape[:-1], spec.action_dim), algo.randn(5, *o.shape[:-1], spec.action_dim)])
    with torch.no_grad():
        out = torch.stack([algo.nets["student"](o, algo.z_in(z[m])) for m in range(6)])
        if discrete:
            a = masked_argmax(out, avail)
            q = torch.stack([q_disc.mean(0).gather(-1, a[m][..., None])[..., 0] for m in range(6)])
        else:
            a = out.clamp(-1, 1)
            q = torch.stack([algo.nets["critic"](o, a[m]).mean(0) for m in range(6)])
        best = q.argmax(0)
        assert not torch.equal(best, torch.zeros_like(best))  # the draws matter, not only the centre
        pick = torch.gather(a, 0, best[None, ..., None].expand(1, *a.shape[1:]) if not discrete else best[None])[0]
        centre = out[0]
        if discrete:
            ce = F.cross_entropy(masked_logits(centre, avail).flatten(0, -2), pick.flatten(), reduction="none")
            want = (ce.view(pick.shape) * w).sum() / w.sum()
        else:
            want = ((((centre - pick) ** 2).mean(-1)) * w).sum() / w.sum()
    assert float(got) == pytest.approx(float(want), rel=1e-5)
    m = algo.update(random_batch(spec, 8, 1, generator=torch.Generator().manual_seed(2)))
    assert m["actor/pick_loss"] >= 0
    assert "actor/pick_loss" not in tiny("macflow", discrete).update(random_batch(spec, 8, 1))  # off by default
    with pytest.raises(ValueError, match="pick_candidates"):
        tiny("macflow", discrete, pick_candidates=1)
