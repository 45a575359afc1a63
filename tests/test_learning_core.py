"""The learning core's findings, each guarded (ALGORITHM.md, "What measurements taught us"):
BC's loss, the x1 flow target, entity encoders that stay decentralized, observation
standardisation in the weights, and the execution-noise default."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, tiny  # noqa: E402

from macflow_arena.algos import TeamSpec, make  # noqa: E402
from macflow_arena.algos.base import flow_matching_loss  # noqa: E402
from macflow_arena.algos.entity import EntityMLP  # noqa: E402
from macflow_arena.algos.nets import euler  # noqa: E402
from macflow_arena.envs.layout import blocks  # noqa: E402

# obs: own 4 entries, 3 landmarks x 2, 2 other agents x 2 (the spread layout at 3 agents)
LAYOUT = [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": blocks(4, 3, 2)},
          {"name": "agents", "index": blocks(10, 2, 2)}]
SPEC = TeamSpec(n_agents=3, obs_dim=14, action_dim=2, entities=LAYOUT)


def test_bc_default_loss_is_mse_not_a_learned_variance():
    """A learned variance lets the NLL give up on hard samples (spread expert: 38 vs 90 for MSE):
    the default gradient on the mean must not depend on the predicted std."""
    algo = make("bc", CONT, "small", seed=0, hidden=(32, 32))
    assert algo.config.loss == "mse"
    from _algo_helpers import expert_dataset

    b = expert_dataset(CONT)
    loss, m = algo.losses(algo.prepare(b))
    assert "actor/nll" not in m and torch.isclose(loss, m["actor/loss"])
    # Scaling the log-std output changes nothing under MSE ...
    head = algo.nets["policy"].net.trunk[-1][-1]
    with torch.no_grad():
        head.bias[CONT.action_dim:] += 3.0
    loss2, _ = algo.losses(algo.prepare(b))
    assert torch.isclose(loss, loss2)
    # ... and everything under the NLL options.
    for kind in ("gaussian", "beta_nll"):
        nll = make("bc", CONT, "small", seed=0, hidden=(32, 32), loss=kind)
        l1, m1 = nll.losses(nll.prepare(b))
        assert "actor/nll" in m1
        with torch.no_grad():
            nll.nets["policy"].net.trunk[-1][-1].bias[CONT.action_dim:] += 3.0
        assert not torch.isclose(l1, nll.losses(nll.prepare(b))[0])
    with pytest.raises(ValueError, match="loss"):
        make("bc", CONT, "small", loss="huber")


class _ConstantX1(torch.nn.Module):
    """A field that always predicts the clean action ``c``."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def encode(self, o):
        return o

    def forward_h(self, h, x, t):
        return self.c.expand_as(x)

    def forward(self, o, x, t):
        return self.c.expand_as(x)


def test_x1_flow_is_the_default_and_its_sampler_lands_on_the_prediction():
    for name in ("macflow", "flowbc"):
        assert tiny(name, False).config.flow_target == "x1"
    c = torch.tensor([0.3, -0.7])
    x0 = torch.randn(4, 3, 2)
    for k in (1, 2, 10):
        assert torch.allclose(euler(_ConstantX1(c), torch.zeros(4, 3, 5), x0, k, "x1"), c.expand(4, 3, 2), atol=1e-6)
    # The x1 loss is the clean-action error, not the velocity error weighted by 1/(1-t)^2.
    field = _ConstantX1(c)
    x1 = torch.randn(8, 3, 2)
    tau = torch.full((8, 1, 1), 0.9)
    w = torch.ones(8, 3)
    lx = flow_matching_loss(field, None, x1, x0.repeat(2, 1, 1), tau, w, "x1")
    assert torch.isclose(lx, ((c - x1) ** 2).mean())
    lv = flow_matching_loss(field, None, x1, x0.repeat(2, 1, 1), tau, w, "velocity")
    assert torch.isclose(lv, ((c - (x1 - x0.repeat(2, 1, 1))) ** 2).mean())


def test_logits_flow_target_is_cross_entropy_and_samples_through_the_softmax():
    """``flow_target='logits'`` (discrete): the field's outputs are logits, its x1 prediction their softmax
    (the sampler lands on it as on an x1 prediction), its loss the cross-entropy to the action; continuous
    actions refuse it with the fix."""
    logits = torch.tensor([2.0, -1.0, 0.5])
    field, x0 = _ConstantX1(logits), torch.randn(4, 3, 3)
    for k in (1, 2, 10):
        got = euler(field, torch.zeros(4, 3, 5), x0, k, "logits")
        assert torch.allclose(got, torch.softmax(logits, -1).expand(4, 3, 3), atol=1e-6)
    x1 = torch.nn.functional.one_hot(torch.tensor([[0, 1, 2]] * 8), 3).float()  # [8, 3 agents, 3 actions]
    w = torch.ones(8, 3)
    w[:, 2] = 0  # agent 2's rows carry no weight
    loss = flow_matching_loss(field, None, x1, torch.randn(8, 3, 3), torch.full((8, 1, 1), 0.3), w, "logits")
    logp = torch.log_softmax(logits, -1)
    assert torch.isclose(loss, -(logp[0] + logp[1]) / 2)
    for name in ("macflow", "flowbc"):
        tiny(name, True, flow_target="logits")  # discrete: accepted
        with pytest.raises(ValueError, match="discrete actions"):
            tiny(name, False, flow_target="logits")


def test_entity_network_is_decentralized_and_permutation_invariant_over_entities():
    net = EntityMLP(SPEC, 2, (32, 32), 2)
    o = torch.randn(5, 3, 14 + 3)
    z = torch.randn(5, 3, 2)
    out = net(o, z)
    # Agent 1's output reads only its own row.
    o2 = o.clone()
    o2[:, [0, 2]] = torch.randn(5, 2, 17)
    assert torch.allclose(net(o2, z)[:, 1], out[:, 1], atol=1e-6)
    # Swapping two landmarks (entity tokens of one group) changes nothing.
    o3 = o.clone()
    o3[..., 4:6], o3[..., 6:8] = o[..., 6:8], o[..., 4:6]
    assert torch.allclose(net(o3, z), out, atol=1e-5)
    # memory() + forward_mem() is forward().
    assert torch.allclose(net.forward_mem(net.memory(o), z), out)
    # A flat layout is a plain MLP: no attention parameters.
    flat = EntityMLP(TeamSpec(3, 14, 2), 2, (32, 32), 2)
    assert flat.n_tokens == 0 and not any("kv" in k for k, _ in flat.named_parameters())


def test_every_network_of_every_algorithm_uses_the_entity_layout():
    for name, discrete in (("macflow", False), ("bc", False), ("td3bc", False), ("flowbc", False),
                           ("diffusion", False)):
        algo = make(name, SPEC, "small", seed=0, hidden=(32, 32))
        nets = [m for m in algo.nets.modules() if isinstance(m, EntityMLP)]
        assert nets and all(m.n_tokens == 5 for m in nets), name
    disc = TeamSpec(n_agents=3, obs_dim=14, action_dim=5, discrete=True, entities=LAYOUT)
    for name in ("macflow", "bc", "flowbc", "vdn_cql"):
        algo = make(name, disc, "small", seed=0, hidden=(32, 32))
        assert all(m.n_tokens == 5 for m in algo.nets.modules() if isinstance(m, EntityMLP)), name


def test_observation_statistics_live_in_the_weights():
    algo = make("macflow", SPEC, "small", seed=0, hidden=(32, 32))
    mean, std = torch.arange(14.0), torch.full((14,), 2.0)
    std[3] = 0.0  # an entry that never varies: left unscaled
    algo.set_obs_stats(mean, std)
    sd = algo.state_dict()
    for net in ("student", "teacher", "critic", "target_critic"):
        keys = [k for k in sd if k.startswith(f"nets.{net}.") and k.endswith("obs_mean")]
        assert keys, net
        for k in keys:
            assert torch.equal(sd[k][:14], mean) and torch.equal(sd[k][14:], torch.zeros(3))
            s = sd[k.replace("obs_mean", "obs_std")]
            assert s[3] == 1.0 and s[0] == 2.0
    other = make("macflow", SPEC, "small", seed=0, hidden=(32, 32))
    other.load_state_dict(sd)
    obs = torch.randn(4, 3, 14)
    g = torch.Generator()
    assert torch.equal(other.act(obs, g.manual_seed(0)), algo.act(obs, g.manual_seed(0)))
    with pytest.raises(ValueError, match="shape"):
        algo.set_obs_stats(torch.zeros(3), torch.ones(3))


def test_execution_noise_is_zero_by_default():
    algo = tiny("macflow", False)
    assert algo.config.exec_noise == 0.0
    obs = torch.randn(6, CONT.n_agents, CONT.obs_dim)
    assert torch.equal(algo.act(obs, torch.Generator().manual_seed(1)), algo.act(obs, torch.Generator().manual_seed(2)))


def test_team_spec_layout_round_trips_through_json():
    d = SPEC.to_dict()
    import json

    back = TeamSpec.from_dict(json.loads(json.dumps(d)))
    assert back == SPEC and back.to_dict() == d
    assert TeamSpec(3, 14, 2).to_dict().get("entities") is None


def test_flowbc_execution_noise_scales_the_start_of_the_flow():
    """flowbc integrates the flow from x0 = 0 by default (the noise centre: the same action whatever the
    generator); exec_noise=1 samples its learned distribution (an execution option of a trained run)."""
    algo = make("flowbc", SPEC, "small", seed=0, hidden=(32, 32))
    assert algo.config.exec_noise == 0.0 and "exec_noise" in algo.exec_fields
    obs = torch.randn(5, SPEC.n_agents, SPEC.obs_dim)
    b1 = algo.act(obs, torch.Generator().manual_seed(1))
    b2 = algo.act(obs, torch.Generator().manual_seed(2))
    torch.testing.assert_close(b1, b2)
    algo.set_execution(exec_noise=1.0)
    a1 = algo.act(obs, torch.Generator().manual_seed(1))
    a2 = algo.act(obs, torch.Generator().manual_seed(2))
    assert not torch.allclose(a1, a2)


def test_shared_encodings_change_no_value_and_no_gradient():
    """The update computes each network's entity encoding of o once: the frozen critic of the
    Q term and the teacher's Euler sampler reuse the trained calls' encodings (detached rows)."""
    from macflow_arena.algos.entity import rows
    from macflow_arena.algos.nets import Critic, make_field

    torch.manual_seed(0)
    critic = Critic(SPEC, (32, 32), ensemble=2)
    o, a = torch.randn(6, 3, 17), torch.randn(6, 3, 2, requires_grad=True)
    mem = critic.memory(o)
    assert torch.equal(critic(o, a, mem=mem), critic(o, a))
    q_ref = critic(o[:4], a[:4], frozen=True)
    (g_ref,) = torch.autograd.grad(q_ref.sum(), a)
    q = critic(o[:4], a[:4], frozen=True, mem=rows(mem, 4))
    (g,) = torch.autograd.grad(q.sum(), a)
    assert torch.allclose(q, q_ref, atol=1e-6) and torch.allclose(g, g_ref, atol=1e-6)
    critic.zero_grad()
    critic(o[:4], a[:4], frozen=True, mem=rows(mem, 4)).sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in critic.parameters())  # frozen: no weight moves
    field = make_field("joint", SPEC, (32, 32))
    z = torch.randn(4, 3, 2)
    assert torch.allclose(euler(field, o[:4], z, 3, mem=rows(field.encode(o), 4)), euler(field, o[:4], z, 3), atol=1e-6)


def _mostly_expert_batch(seed: int, a_star: torch.Tensor, eps: float = 0.2, B: int = 256):
    """Medium-like data: each agent takes ``a_star`` and, with probability ``eps``, a uniform action
    instead (the epsilon-random medium recordings); observations carry no information."""
    from macflow_arena.algos import Batch

    g = torch.Generator().manual_seed(seed)
    N, D = CONT.n_agents, CONT.obs_dim
    act = a_star.expand(B, 1, N, 2).clone()
    swap = torch.rand(B, 1, N, 1, generator=g) < eps
    act = torch.where(swap, torch.rand(B, 1, N, 2, generator=g) * 2 - 1, act)
    return Batch(obs=torch.randn(B, 2, N, D, generator=g), actions=act, rewards=torch.zeros(B, 1),
                 terminated=torch.zeros(B, 1), mask=torch.ones(B, 1), alive=torch.ones(B, 2, N))


def test_the_flows_noise_centre_finds_the_mode_where_mse_bc_shrinks_to_the_mean():
    """tag medium (quality.md, session 6): with 20% uniform actions MSE BC regresses to
    0.8 a* (the expert's action shrunk: BC stays at 75-77 normalized up to 10,000 updates) while
    the flow maps the noise centre z = 0 to the median, which is a* itself (flowbc's centre 88.2);
    BC with ``loss="l1"`` regresses to the median too."""
    torch.set_num_threads(1)
    a_star = torch.tensor([0.6, -0.4])
    obs = torch.randn(64, CONT.n_agents, CONT.obs_dim, generator=torch.Generator().manual_seed(99))
    out = {}
    for key, name, kw in (("bc", "bc", {}), ("flowbc", "flowbc", {}), ("bc_l1", "bc", {"loss": "l1"})):
        algo = make(name, CONT, "small", seed=0, hidden=(32, 32), **kw)  # flowbc plays its noise centre by default
        for i in range(400):
            algo.update(_mostly_expert_batch(i, a_star))
        out[key] = algo.act(obs, torch.Generator().manual_seed(0))
    assert torch.allclose(out["bc"].mean((0, 1)), 0.8 * a_star, atol=0.05)
    for key in ("flowbc", "bc_l1"):  # the median: the flow's centre, and an L1 regressor
        assert (out[key] - a_star).abs().max() < 0.12, key
        assert (out[key] - a_star).abs().mean() < 0.5 * (out["bc"] - a_star).abs().mean(), key


def test_centre_fraction_gives_the_first_distillation_rows_the_noise_centre():
    """``centre_fraction`` (an option, 0 by default: neutral on 2s3z medium, quality.md session 8) sets the
    noise of that share of the student's distillation rows to the centre z = 0, what a team plays; the
    other rows keep their N(0, 1) draws."""
    from _algo_helpers import spec_for

    from macflow_arena.algos import random_batch

    torch.set_num_threads(1)
    assert tiny("macflow", True).config.centre_fraction == 0 and tiny("macflow", False).config.centre_fraction == 0
    for discrete in (True, False):
        algo = tiny("macflow", discrete, centre_fraction=0.5, actor_batch=8)
        seen = []
        forward = algo.nets["student"].forward

        def spy(o, z, mem=None, forward=forward, seen=seen):
            if torch.is_grad_enabled():  # the distillation call (the next-action call runs without gradients)
                seen.append(z.detach().clone())
            return forward(o, z, mem=mem)

        algo.nets["student"].forward = spy
        algo.update(random_batch(spec_for(discrete), 16, 1, generator=torch.Generator().manual_seed(0)))
        (z,) = seen
        assert z.shape[0] == 8 and not z[:4].any() and z[4:].abs().min() > 0, discrete  # 4 of the 8 actor rows


def _trained_student_output(algo, discrete):
    """The students' output in the trained forward of ``algo.losses`` on a random batch, the batch and
    the losses' metrics."""
    from _algo_helpers import spec_for

    from macflow_arena.algos import random_batch

    outs, forward = [], algo.nets["student"].forward

    def spy(o, z, mem=None):
        out = forward(o, z, mem=mem)
        if torch.is_grad_enabled():
            outs.append(out.detach())
        return out

    algo.nets["student"].forward = spy
    b = algo.prepare(random_batch(spec_for(discrete), 16, 1, generator=torch.Generator().manual_seed(0)))
    _, metrics = algo.losses(b)
    (mu,) = outs
    return mu, b, metrics


def test_centre_target_data_gives_the_centre_rows_the_recorded_action():
    """``centre_target='data'`` with every row at the centre: the distillation loss is the student's centre
    against the batch's own actions (cross-entropy for discrete actions, MSE for continuous ones)."""
    import torch.nn.functional as F

    from macflow_arena.algos.base import masked_mean, sanitize_avail
    from macflow_arena.algos.nets import masked_logits

    torch.set_num_threads(1)
    for discrete in (True, False):
        algo = tiny("macflow", discrete, centre_fraction=1.0, actor_batch=0, centre_target="data")
        mu, b, metrics = _trained_student_output(algo, discrete)
        w = b.mask[..., None] * b.alive[:, :-1]
        if discrete:
            logits = masked_logits(mu, sanitize_avail(b.avail)[:, :-1])
            want = F.cross_entropy(logits.flatten(0, -2), b.actions.flatten(), reduction="none").view(b.actions.shape)
        else:
            want = ((mu - b.actions) ** 2).mean(-1)
        assert torch.isclose(metrics["actor/distill_loss"], masked_mean(want, w)), discrete


def test_centre_loss_l1_regresses_the_centre_rows_to_the_datas_median():
    """``centre_loss='l1'`` (continuous, centre_target='data'): the centre rows' loss is the mean absolute
    error to the recorded action, whose minimiser is the per-dimension median (the expert's action on
    epsilon-random data, where MSE's mean shrinks it); the default stays MSE; other values are refused."""

    from macflow_arena.algos.base import masked_mean

    torch.set_num_threads(1)
    with pytest.raises(ValueError, match="centre_loss"):
        tiny("macflow", False, centre_loss="huber")
    for loss in ("l1", "mse"):
        algo = tiny("macflow", False, centre_fraction=1.0, actor_batch=0, centre_target="data", centre_loss=loss)
        mu, b, metrics = _trained_student_output(algo, False)
        err = mu - b.actions
        want = err.abs().mean(-1) if loss == "l1" else (err ** 2).mean(-1)
        w = b.mask[..., None] * b.alive[:, :-1]
        assert torch.isclose(metrics["actor/distill_loss"], masked_mean(want, w)), loss


def test_centre_filter_advantage_keeps_the_recorded_actions_the_agents_critic_prefers():
    """``centre_filter='advantage'``: a centre row learns its recorded action only where the agent's own
    critic (its heads' mean) ranks it above the student's centre action (continuous: Q_i(o_i, a) at the
    student's clamped output; discrete: the expectation under its masked softmax); 'safe': only where every
    head's value of the recorded action beats every head's value of the centre's; the kept share is logged;
    the filter needs ``centre_target='data'``."""
    import torch.nn.functional as F

    from macflow_arena.algos.base import masked_mean, sanitize_avail
    from macflow_arena.algos.nets import masked_logits

    torch.set_num_threads(1)
    with pytest.raises(ValueError, match="centre_filter"):
        tiny("macflow", False, centre_filter="advantage")  # centre_target is 'centre'
    with pytest.raises(ValueError, match="centre_filter"):
        tiny("macflow", False, centre_target="data", centre_filter="best")
    for discrete, how in ((True, "advantage"), (False, "advantage"), (True, "safe"), (False, "safe")):
        algo = tiny("macflow", discrete, centre_fraction=1.0, actor_batch=0, centre_target="data",
                    centre_filter=how)
        if how == "safe":  # heads that disagree a little, so some rows pass
            h0, h1 = algo.nets["critic"].heads
            with torch.no_grad():
                for p0, p1 in zip(h0.parameters(), h1.parameters()):
                    p1.copy_(p0 + 0.01 * torch.randn_like(p0))
        mu, b, metrics = _trained_student_output(algo, discrete)
        o = algo.with_id(b.obs)[:, :-1]
        w = b.mask[..., None] * b.alive[:, :-1]
        with torch.no_grad():  # per critic head [E, ...]
            if discrete:
                logits = masked_logits(mu, sanitize_avail(b.avail)[:, :-1])
                loss = F.cross_entropy(logits.flatten(0, -2), b.actions.flatten(), reduction="none").view(b.actions.shape)
                q = algo.nets["critic"](o)
                q_data = q.gather(-1, b.actions.expand(q.shape[0], *b.actions.shape)[..., None])[..., 0]
                q_pi = (torch.softmax(logits, -1) * q).sum(-1)
            else:
                loss = ((mu - b.actions) ** 2).mean(-1)
                q_data = algo.nets["critic"](o, b.actions)
                q_pi = algo.nets["critic"](o, mu.clamp(-1, 1))
        if how == "advantage":  # the heads' mean
            better = (q_data.mean(0) > q_pi.mean(0)).float()
        else:  # better under every head than the centre under any
            better = (q_data.min(0).values > q_pi.max(0).values).float()
            assert better.sum() < (q_data.mean(0) > q_pi.mean(0)).float().sum()
        kept = masked_mean(better, w)
        assert 0.02 < kept < 0.95, (discrete, how, kept)  # the filter drops some rows and keeps some
        assert torch.isclose(metrics["actor/centre_kept"], kept), (discrete, how)
        assert torch.isclose(metrics["actor/distill_loss"], masked_mean(loss, w * better), atol=1e-6), (discrete, how)
        assert not torch.isclose(metrics["actor/distill_loss"], masked_mean(loss, w)), (discrete, how)


def test_filter_floor_gives_the_dropped_recorded_actions_a_small_weight():
    """``filter_floor=f``: the rows the advantage filter drops still learn their recorded action at
    weight f (the kept ones at 1), so the distillation loss is the mean under those weights."""
    from macflow_arena.algos.base import masked_mean

    torch.set_num_threads(1)
    with pytest.raises(ValueError, match="filter_floor"):
        tiny("macflow", False, centre_fraction=1.0, centre_target="data", filter_floor=0.1)  # no filter
    with pytest.raises(ValueError, match="filter_floor"):
        tiny("macflow", False, centre_fraction=1.0, centre_target="data", centre_filter="advantage", filter_floor=1.0)
    algo = tiny("macflow", False, centre_fraction=1.0, actor_batch=0, centre_target="data",
                centre_filter="advantage", filter_floor=0.25)
    mu, b, metrics = _trained_student_output(algo, False)
    o = algo.with_id(b.obs)[:, :-1]
    w = b.mask[..., None] * b.alive[:, :-1]
    with torch.no_grad():
        better = (algo.nets["critic"](o, b.actions).mean(0) > algo.nets["critic"](o, mu.clamp(-1, 1)).mean(0)).float()
    loss = ((mu - b.actions) ** 2).mean(-1)
    assert 0.02 < masked_mean(better, w) < 0.95
    assert torch.isclose(metrics["actor/centre_kept"], masked_mean(better, w))
    assert torch.isclose(metrics["actor/distill_loss"], masked_mean(loss, w * (0.25 + 0.75 * better)), atol=1e-6)


def test_target_noise_gives_the_critics_next_actions_the_noise_the_students_learned():
    """The critic's next actions come from the students on drawn noises by default; at ``centre_fraction=1``
    (the students learn the centre only, and the weights that read the noise never train) from the centre
    z = 0, so the TD targets do not depend on the draw; ``target_noise`` sets the scale either way."""
    from _algo_helpers import spec_for

    from macflow_arena.algos import random_batch

    torch.set_num_threads(1)
    with pytest.raises(ValueError, match="target_noise"):
        tiny("macflow", False, target_noise=-1.0)
    batch = random_batch(spec_for(False), 8, 3, generator=torch.Generator().manual_seed(0))

    def targets(**kw):
        algo = tiny("macflow", False, **kw)
        return [algo.td_target(batch) for _ in range(2)]  # two draws of the training generator

    for kw, same in (({}, False), ({"centre_fraction": 1.0}, True), ({"centre_fraction": 1.0, "target_noise": 1.0}, False),
                     ({"target_noise": 0.0}, True)):
        y1, y2 = targets(**kw)
        assert torch.equal(y1, y2) == same, kw


def _spy_noises(monkeypatch, mf, algo):
    """Lists that fill with the teacher sampler's start noises (every ``euler`` call) and the noise the
    students see in the update's trained forward."""
    x0s, zs = [], []
    real_euler, forward = mf.euler, algo.nets["student"].forward
    monkeypatch.setattr(mf, "euler", lambda f, o, x0, *a, **k: (x0s.append(x0.clone()), real_euler(f, o, x0, *a, **k))[1])

    def spy(o, z, mem=None):
        if torch.is_grad_enabled():
            zs.append(z.detach().clone())
        return forward(o, z, mem=mem)

    algo.nets["student"].forward = spy
    return x0s, zs


def test_centre_target_data_runs_the_teachers_sampler_only_on_the_rows_that_distil_it(monkeypatch):
    """With ``centre_target='data'`` the centre rows' label is the recorded action, so the teacher's K-step
    sampler (the update's largest cost) integrates only the other rows' draws, and not at all when every
    row is a centre row; the other rows keep the noise the student sees."""
    from _algo_helpers import spec_for

    from macflow_arena.algos import macflow as mf
    from macflow_arena.algos import random_batch

    torch.set_num_threads(1)
    for discrete in (True, False):
        for fraction, rows_integrated in ((0.5, [4]), (1.0, [])):
            algo = tiny("macflow", discrete, centre_fraction=fraction, actor_batch=8, centre_target="data")
            x0s, zs = _spy_noises(monkeypatch, mf, algo)
            algo.update(random_batch(spec_for(discrete), 16, 1, generator=torch.Generator().manual_seed(0)))
            assert [x0.shape[0] for x0 in x0s] == rows_integrated, (discrete, fraction)
            (z,) = zs
            if x0s:
                assert torch.equal(algo.z_in(x0s[0]), z[4:]), discrete


@pytest.mark.parametrize("target", ["centre", "draw"])
def test_centre_target_picks_the_teachers_noise_for_the_centre_rows(monkeypatch, target):
    """``centre_target``: the centre rows' label is the teacher's sample from z = 0 ('centre', the default)
    or from the row's own N(0, 1) draw ('draw': the student's centre then fits the teacher's marginal over
    noises, its mode for discrete actions). The student sees z = 0 on those rows either way."""
    from _algo_helpers import spec_for

    from macflow_arena.algos import macflow as mf
    from macflow_arena.algos import random_batch

    torch.set_num_threads(1)
    assert tiny("macflow", True).config.centre_target == "centre"
    with pytest.raises(ValueError, match="centre_target"):
        tiny("macflow", True, centre_target="mean")
    for discrete in (True, False):
        algo = tiny("macflow", discrete, centre_fraction=0.5, actor_batch=8, centre_target=target)
        x0s, zs = _spy_noises(monkeypatch, mf, algo)
        algo.update(random_batch(spec_for(discrete), 16, 1, generator=torch.Generator().manual_seed(0)))
        (x0,), (z,) = x0s, zs
        assert not z[:4].any() and z[4:].abs().min() > 0, discrete
        if target == "centre":
            assert not x0[:4].any() and x0[4:].abs().min() > 0, discrete
        else:  # the teacher integrates from the draws the centre rows replaced
            assert x0.abs().min() > 0, discrete
        assert torch.equal(algo.z_in(x0[4:]), z[4:]), discrete  # the other rows share one noise
