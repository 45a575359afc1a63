"""The recurrent option (``bc --set memory=gru``): a window's forward equals step-by-step
execution, front padding holds the zero state, agents keep their own states, episodes reset
it, a history-dependent target is learned where the feed-forward policy cannot, and the
trainer, the evaluator and teams treat it as what it is."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, DISC  # noqa: E402

from macflow_arena.algos import Batch, make  # noqa: E402
from macflow_arena.algos.recurrent import RecurrentHead  # noqa: E402

HID = (32, 32)


def _head(spec=CONT, out=4):
    torch.manual_seed(0)
    return RecurrentHead(spec, HID, out)


def _x(spec=CONT, B=3, T=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(B, T, spec.n_agents, spec.obs_dim, generator=g)
    eye = torch.eye(spec.n_agents).expand(B, T, -1, -1)
    return torch.cat([obs, eye], -1)


def test_window_forward_equals_step_by_step_execution():
    net, x = _head(), _x()
    win = net(x, torch.ones(x.shape[:2]))
    h = net.initial_state(x.shape[:1] + x.shape[2:3], "cpu")
    for t in range(x.shape[1]):
        out, h = net.step(x[:, t], h)
        assert torch.allclose(out, win[:, t], atol=1e-5)


def test_front_padding_holds_the_zero_state_until_the_episode_starts():
    """A window that begins 2 steps before its episode gives, on the real steps, what a window
    starting at the episode's first step gives (the state an episode starts with)."""
    net, x = _head(), _x(T=6)
    mask = torch.ones(3, 6)
    mask[:, :2] = 0
    padded = net(x, mask)
    start = net(x[:, 2:], torch.ones(3, 4))
    assert torch.allclose(padded[:, 2:], start, atol=1e-5)
    # ... and the state does depend on the history when there is one
    assert not torch.allclose(net(x, torch.ones(3, 6))[:, 2:], start, atol=1e-3)


def test_each_agent_keeps_its_own_state_from_its_own_observations():
    net, x = _head(), _x()
    y = x.clone()
    y[:, :, 1, :CONT.obs_dim] += 1.0  # agent 1's observations change at every step
    a, b = net(x, torch.ones(3, 6)), net(y, torch.ones(3, 6))
    assert torch.allclose(a[:, :, [0, 2]], b[:, :, [0, 2]], atol=1e-6)
    assert not torch.allclose(a[:, :, 1], b[:, :, 1], atol=1e-3)


@pytest.mark.parametrize("spec", [CONT, DISC], ids=["cont", "disc"])
def test_bc_act_carries_the_state_and_reset_memory_drops_it(spec):
    algo = make("bc", spec, "small", seed=0, hidden=HID, memory="gru")
    assert algo.recurrent and not make("bc", spec, "small", hidden=HID).recurrent
    x = _x(spec, B=2, T=4)
    obs = x[..., :spec.obs_dim]
    g = torch.Generator()
    with torch.no_grad():
        win = algo._policy(x, torch.ones(2, 4))
    first = win if spec.discrete else win[0]
    acts = [algo.act(obs[:, t], g) for t in range(4)]
    for t in range(4):
        ref = first[:, t].argmax(-1) if spec.discrete else first[:, t].clamp(-1, 1)
        assert torch.equal(acts[t], ref) if spec.discrete else torch.allclose(acts[t], ref, atol=1e-5)
    algo.reset_memory()
    again = algo.act(obs[:, 0], g)
    assert torch.equal(again, acts[0]) if spec.discrete else torch.allclose(again, acts[0], atol=1e-6)


def _memory_batch(B=64, T=8, seed=0) -> Batch:
    """Each agent's target action is its own previous observation's first two entries (the
    first step: zero): a feed-forward policy cannot know it, a recurrent one can."""
    g = torch.Generator().manual_seed(seed)
    N, D = CONT.n_agents, CONT.obs_dim
    obs = torch.rand(B, T + 1, N, D, generator=g) * 2 - 1
    act = torch.cat([torch.zeros(B, 1, N, 2), obs[:, :T - 1, :, :2]], 1)
    return Batch(obs=obs, actions=act, rewards=torch.zeros(B, T), terminated=torch.zeros(B, T),
                 mask=torch.ones(B, T), alive=torch.ones(B, T + 1, N))


def test_recurrent_bc_learns_what_needs_the_history_and_feed_forward_does_not():
    torch.set_num_threads(1)
    losses = {}
    for memory in ("none", "gru"):
        algo = make("bc", CONT, "small", seed=0, hidden=HID, memory=memory, lr=3e-3)
        for i in range(300):
            algo.update(_memory_batch(seed=i))
        with torch.no_grad():
            losses[memory] = float(algo.losses(algo.prepare(_memory_batch(seed=10_000)))[0])
    # feed-forward: the variance of a uniform action, 1/3; recurrent: well below it
    assert losses["none"] > 0.25
    assert losses["gru"] < 0.1


def test_the_trainer_refuses_transitions_for_a_recurrent_policy(tmp_path):
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.train.trainer import TrainError, train

    ds = record_tiny(tmp_path / "data", "skirmish/3m", episodes=4)
    cfg = tiny_config(ds, tmp_path / "run", env_id="skirmish/3m", algo="bc", steps=2,
                      overrides={"hidden": HID, "memory": "gru"}, sampling="transitions")
    with pytest.raises(TrainError, match="--sampling windows"):
        train(cfg, log=None)


def test_recurrent_team_trains_evaluates_and_plays_in_torch_only(tmp_path):
    from _team_helpers import make_team, team_home
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.teams import load_team
    from macflow_arena.teams.format import TeamError
    from macflow_arena.teams.numpy_load import numpy_capable
    from macflow_arena.train.evaluate import evaluate
    from macflow_arena.train.trainer import train

    with team_home(tmp_path):
        ds = record_tiny(tmp_path / "data", "skirmish/3m", episodes=4)
        run = tmp_path / "runs" / "gru"
        train(tiny_config(ds, run, env_id="skirmish/3m", algo="bc", steps=3, ckpt_every=3, sampling="windows",
                          overrides={"hidden": HID, "memory": "gru"}), log=None)
        folder = make_team([run], "gru-team")
        team = load_team("gru-team", backend="play")  # play prefers numpy; a recurrent team stays in torch
        assert getattr(team.algo, "backend", "torch") == "torch" and team.algo.recurrent
        assert not numpy_capable("bc", {"memory": "gru"}) and numpy_capable("bc", {"memory": "none"})
        with pytest.raises(TeamError, match="torch"):
            load_team(folder, backend="numpy")
        # the evaluator resets the state at each round's start (4 episodes on 2 worlds: 2 rounds)
        calls = []
        reset = team.algo.reset_memory
        team.algo.reset_memory = lambda: (calls.append(1), reset())[1]
        res = evaluate(team.algo, "skirmish/3m", episodes=4, num_envs=2)
        assert len(calls) == 2 and res["episodes"] == 4
