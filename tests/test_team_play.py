"""Teams in play and video: team seats, masks, the HUD latency, recording, lock-step compare videos."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _team_helpers import make_run, make_team, team_home  # noqa: E402

from macflow_arena import make  # noqa: E402
from macflow_arena.cli import main  # noqa: E402
from macflow_arena.play import ScriptedEventSource, SeatError, build_seating, key_down, parse_seats, play  # noqa: E402
from macflow_arena.play.skirmish_commander import against_seats  # noqa: E402
from macflow_arena.teams import TeamPolicy, load_team  # noqa: E402

SPREAD, TAG, SK = "particle/spread", "particle/tag", "skirmish/3m"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with team_home(tmp_path_factory.mktemp("home")) as h:
        make_team([make_run(h, SPREAD, "macflow")], "spread-macflow")
        make_team([make_run(h, SPREAD, "bc")], "spread-bc")
        make_team([make_run(h, TAG, "macflow")], "tag-macflow")
        make_team([make_run(h, SK, "macflow", episodes=6)], "3m-macflow")
        yield h


def _hold(key: str, n: int) -> ScriptedEventSource:
    return ScriptedEventSource.at(n, {0: [key_down(key)]})


# -- TeamPolicy ----------------------------------------------------------------------------------------


def test_team_policy_respects_skirmish_masks_and_absent_units(home):
    team = load_team("3m-macflow")
    env = make(SK)
    obs, _ = env.reset(seed=0)
    policy = TeamPolicy(team, env, team.agents)
    policy.reset(0)
    rng = np.random.default_rng(0)
    n = team.spec.action_dim
    for _ in range(200):  # random masks: the chosen action is always a legal one
        masked = {}
        for a in team.agents:
            m = (rng.random(n) < 0.3).astype(np.int8)
            m[rng.integers(n)] = 1
            masked[a] = {"observation": obs[a]["observation"], "action_mask": m}
        acts = policy.act(masked)
        for a, act in acts.items():
            assert masked[a]["action_mask"][int(act)] == 1
    # a dead unit (absent from obs) gets no action; the others still act
    alive = {a: obs[a] for a in ("ally_0", "ally_2")}
    assert set(policy.act(alive)) == {"ally_0", "ally_2"}
    assert policy.decisions == 201 and policy.latency_ms > 0
    # whole episodes with the env's own masks: skirmish raises on any illegal action
    for ep in range(2):
        obs, _ = env.reset(seed=ep)
        policy.reset(ep)
        while env.agents:
            obs, *_ = env.step(policy.act({a: obs[a] for a in env.agents}))
    env.close()


def test_team_policy_acts_only_for_its_seats_and_is_seeded_per_episode(home):
    team = load_team("spread-macflow")
    team.algo.set_execution(exec_noise=1.0)  # sample the shared noise (the default acts with its centre)
    env = make(SPREAD)
    obs, _ = env.reset(seed=3)
    policy = TeamPolicy(team, env, ["agent_1", "agent_2"])
    mine = {a: obs[a] for a in ("agent_1", "agent_2")}
    runs = []
    for seed in (5, 5, 6):
        policy.reset(seed)
        runs.append([policy.act(mine) for _ in range(3)])
    assert set(runs[0][0]) == {"agent_1", "agent_2"}
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(runs[0], runs[1]) for k in a)  # same episode seed
    assert any(not np.array_equal(a[k], b[k]) for a, b in zip(runs[0], runs[2]) for k in a)  # shared noise differs
    with pytest.raises(ValueError, match="not its seats"):
        policy.act({"agent_0": obs["agent_0"]})
    with pytest.raises(ValueError, match="plays predator_0, predator_1, predator_2, not prey_0"):
        TeamPolicy(load_team("tag-macflow"), make(TAG, prey_control="external"), ["prey_0"])
    env.close()


# -- play ------------------------------------------------------------------------------------------------


def test_play_with_team_and_a_synthetic_human(home):
    r = play(SPREAD, ["agent_0=keyboard"], team="spread-macflow", events=_hold("d", 200), headless=True,
             max_frames=200, seed=3, overrides={"max_cycles": 300})
    assert r.frames == 200 and r.steps == 200 and r.human_seats == ["agent_0"]
    assert r.seats == {"agent_0": "keyboard", "agent_1": "team:spread-macflow", "agent_2": "team:spread-macflow"}
    assert r.last_obs["agent_0"][2] > 0.5  # the human held D the whole time


def test_hud_shows_each_teams_latency(home):
    from macflow_arena.play.input_state import InputState
    from macflow_arena.play.loop import _hud
    from macflow_arena.play.seats import with_team
    from macflow_arena.play.session import Session

    env = make(SPREAD, render_mode="rgb_array")
    seating = build_seating(env, with_team(parse_seats(["agent_0=team:spread-bc"]), "spread-macflow"), InputState(), 0)
    session = Session(env, seating, seed=0)
    session.reset()
    for _ in range(5):
        session.step()
    lines = _hud(seating, 10, 10.0, False)
    assert any(ln.startswith("team spread-bc (bc): ") and ln.endswith("ms/decision") for ln in lines)
    assert any(ln.startswith("team spread-macflow (macflow): ") for ln in lines)
    assert seating.kinds == {"agent_0": "team:spread-bc", "agent_1": "team:spread-macflow",
                             "agent_2": "team:spread-macflow"}
    env.close()


def test_play_tag_human_prey_against_the_predator_team(home):
    r = play(TAG, ["prey_0=keyboard"], team="tag-macflow", events=_hold("a", 200), headless=True, max_frames=200,
             seed=1)
    assert r.frames == 200 and r.human_seats == ["prey_0"]
    assert {r.seats[f"predator_{i}"] for i in range(3)} == {"team:tag-macflow"}


def test_play_skirmish_with_and_against_the_team(home):
    w = play(SK, ["ally_0=keyboard"], team="3m-macflow", headless=True, max_frames=200, seed=2)
    assert w.frames == 200 and w.seats["ally_0"] == "keyboard"
    assert w.seats["ally_1"] == w.seats["ally_2"] == "team:3m-macflow"
    a = play(SK, against_seats(SK), team="3m-macflow", headless=True, max_frames=200, seed=2)
    assert {a.seats[f"ally_{i}"] for i in range(3)} == {"team:3m-macflow"}
    assert {s for k, s in a.seats.items() if k.startswith("enemy_")} == {"commander"}
    assert a.episodes >= 1  # battles end and restart under the team


def test_play_record_stores_the_team_name(home, tmp_path):
    from macflow_arena.data import Dataset

    folder = home / "teams" / "spread-macflow"
    path = tmp_path / "rec"
    play(SPREAD, ["agent_0=keyboard", f"*=team:{folder}"], headless=True, max_episodes=1, seed=4, record=str(path),
         overrides={"max_cycles": 5})
    data = Dataset(path).load()
    assert data.fields["policy"][0].tolist() == ["keyboard", "team:spread-macflow", "team:spread-macflow"]
    assert data.fields["human"][0].tolist() == [True, False, False]


def test_team_errors_are_seat_errors(home):
    with pytest.raises(SeatError, match="no team 'nope'"):
        play(SPREAD, ["agent_0=keyboard"], team="nope", headless=True, max_frames=1)
    with pytest.raises(SeatError, match="trained on particle/spread-v0; this env is particle/cover"):
        play("particle/cover", ["agent_0=keyboard"], team="spread-macflow", headless=True, max_frames=1)
    with pytest.raises(SeatError, match="does not fit this env particle/spread-v0: obs_dim: trained with 14"):
        play(SPREAD, ["agent_0=keyboard"], team="spread-macflow", headless=True, max_frames=1,
             overrides={"n_agents": 4, "n_landmarks": 4})
    with pytest.raises(SeatError, match="drop one of them"):
        play(SPREAD, ["*=random"], team="spread-macflow", headless=True, max_frames=1)
    with pytest.raises(SeatError, match="needs an argument"):
        play(SPREAD, ["agent_1=team"], headless=True, max_frames=1)


def test_cli_play_and_video_with_a_team(home, tmp_path, capsys):
    assert main(["play", SPREAD, "--team", "spread-macflow", "--seat", "agent_0=scripted", "--headless",
                 "--frames", "30"]) == 0
    out = tmp_path / "t.mp4"
    assert main(["video", SPREAD, "--team", "spread-macflow", "--out", str(out), "--size", "64", "--quiet"]) == 0
    assert "26 frames" in capsys.readouterr().out
    assert main(["video", SPREAD, "--compare", "spread-macflow", "--team", "x", "--out", str(out)]) == 2
    assert main(["video", SPREAD, "--compare", "nope", "--out", str(tmp_path / "n.mp4")]) == 2
    assert "no team 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "n.mp4").exists()


# -- compare videos ------------------------------------------------------------------------------------------


class _FakeSession:
    """Episode of ``length`` steps; frame value = 10 * tile + step."""

    def __init__(self, i, length):
        self.i, self.length, self.t, self.done = i, length, 0, True
        self.episode_seed, self.episode_return = None, 0.0

    def reset(self):
        self.t, self.done, self.episode_seed = 0, False, 7

    def step(self):
        self.t += 1
        self.done = self.t >= self.length
        return self.done

    def frame(self, hud):
        return np.full((4, 4, 3), 10 * self.i + self.t, dtype=np.uint8)


def test_compare_lock_step_holds_finished_tiles():
    from macflow_arena.teams.compare import GAP, _frames

    sessions = [_FakeSession(0, 3), _FakeSession(1, 5)]
    frames = list(_frames(sessions, ["a", "b"], 2, 2, {"a": [], "b": []}))
    assert len(frames) == 2 * (5 + 1)  # per episode: reset frame + the longest tile's steps
    left = [int(f[0, 0, 0]) for f in frames[:6]]
    right = [int(f[0, 4 + GAP, 0]) for f in frames[:6]]
    assert left == [0, 1, 2, 3, 3, 3]  # finished after 3 steps: holds its last frame
    assert right == [10, 11, 12, 13, 14, 15]
    assert [int(f[0, 0, 0]) for f in frames[6:]] == [0, 1, 2, 3, 3, 3]  # then both start the next episode


def test_compare_video_of_two_teams(home, tmp_path):
    import imageio.v3 as iio

    from macflow_arena.teams import compare_video

    out = tmp_path / "cmp.gif"
    r = compare_video(SPREAD, ["spread-macflow", "spread-bc"], out, episodes=1, seed=3, size=96)
    assert r.labels == ["spread-macflow (macflow)", "spread-bc (bc)"] and r.frames == 26
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        frames = np.stack(list(iio.imiter(out)))
        gc.collect()
    assert frames.shape[0] == 26 and frames.shape[2] == 2 * 96 + 4
    left, right = frames[..., :96, :3], frames[..., 96 + 4:, :3]
    low = slice(60, 96)  # below the HUD text
    assert np.array_equal(left[0, low], right[0, low])  # identical seeds: the same start
    assert not np.array_equal(left[-1, low], right[-1, low]) or r.team_returns["spread-macflow (macflow)"] != \
        r.team_returns["spread-bc (bc)"]
    assert not np.array_equal(left[-1], right[-1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.gif"]
