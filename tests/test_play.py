"""The play loop, human input policies and seat assignment, driven by scripted events."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import macflow_arena
from macflow_arena.play import (
    GamepadPolicy,
    InputEvent,
    InputState,
    KeyboardPolicy,
    ScriptedEventSource,
    SeatError,
    build_seating,
    key_down,
    key_up,
    parse_seats,
    play,
    seat_overrides,
)
from macflow_arena.play import kinds as kinds_mod

SPREAD = "particle/spread"


def _hold(key: str, n: int) -> ScriptedEventSource:
    return ScriptedEventSource.at(n, {0: [key_down(key)]})


# -- the loop ---------------------------------------------------------------


def test_holding_d_moves_the_human_agent_right():
    kw = dict(headless=True, max_frames=100, seed=3, overrides={"max_cycles": 200})
    idle = play(SPREAD, ["agent_0=keyboard"], events=ScriptedEventSource([[]] * 100), **kw)
    right = play(SPREAD, ["agent_0=keyboard"], events=_hold("d", 100), **kw)
    assert idle.frames == right.frames == 100 and right.steps == 100
    x_idle, x_right = idle.last_obs["agent_0"][2], right.last_obs["agent_0"][2]
    assert x_right > x_idle + 0.5
    # The other seats are scripted and saw the same world: their start was identical.
    assert right.seats == {"agent_0": "keyboard", "agent_1": "scripted", "agent_2": "scripted"}
    assert right.human_seats == ["agent_0"]


def test_releasing_the_key_stops_pushing():
    events = ScriptedEventSource.at(30, {0: [key_down("right")], 5: [key_up("right")]})
    r = play(SPREAD, ["agent_0=keyboard"], events=events, headless=True, max_frames=30, seed=1,
             overrides={"max_cycles": 100})
    vx = r.last_obs["agent_0"][0]
    assert abs(vx) < 0.05  # damping brought it to rest after release


def test_r_resets_the_episode():
    events = ScriptedEventSource.at(8, {5: [key_down("r")]})
    r = play(SPREAD, [], events=events, headless=True, max_frames=8, seed=0)
    assert r.resets == 1
    assert r.steps == 7  # frames 0-4 and 6-7 step; frame 5 resets
    assert r.episode_step == 2
    assert r.episodes == 0


def test_p_pauses_and_resumes():
    events = ScriptedEventSource.at(10, {3: [key_down("p")], 6: [key_up("p"), key_down("p")]})
    r = play(SPREAD, [], events=events, headless=True, max_frames=10, seed=0)
    assert r.frames == 10
    assert r.steps == 3 + 4  # frames 3-5 frozen


def test_paused_step_count_is_frozen():
    events = ScriptedEventSource.at(20, {2: [key_down("p")]})
    r = play(SPREAD, [], events=events, headless=True, max_frames=20, seed=0)
    assert r.steps == 2 and r.episode_step == 2


@pytest.mark.parametrize("event", [key_down("escape"), InputEvent("quit")])
def test_escape_or_window_close_quits_early(event):
    events = ScriptedEventSource.at(100, {4: [event]})
    r = play(SPREAD, [], events=events, headless=True, max_frames=100, seed=0)
    assert r.quit and r.frames == 4 and r.steps == 4


def test_episodes_restart_until_max_episodes():
    r = play(SPREAD, [], headless=True, max_episodes=3, seed=5, overrides={"max_cycles": 5})
    assert r.episodes == 3 and len(r.returns) == 3
    assert r.steps == 15
    assert r.frames == 15 + 2  # one reset frame between episodes
    assert all(np.isfinite(r.returns))


def test_policies_are_reset_with_each_episode_seed(monkeypatch):
    seen = []

    class Spy:
        name = "spy"

        def __init__(self, env, seats):
            self.env, self.seats = env, seats

        def reset(self, seed=None):
            seen.append(seed)

        def act(self, obs):
            assert set(obs) <= set(self.seats)  # only its own seats
            return {a: np.zeros(2, np.float32) for a in obs}

    kind = kinds_mod.SeatKind("spy", lambda ctx, seats, arg: Spy(ctx.env, seats), "test policy")
    monkeypatch.setitem(kinds_mod.KINDS, "spy", kind)
    r = play(SPREAD, ["agent_1=spy"], headless=True, max_episodes=2, seed=10, overrides={"max_cycles": 3})
    assert seen == [10, 11]
    assert r.seats["agent_1"] == "spy" and r.seats["agent_0"] == "scripted"


def test_record_frames_and_default_human_seat():
    r = play(SPREAD, headless=True, max_frames=3, seed=0, record_frames=True, size=64)
    assert r.human_seats == ["agent_0"]  # seats=None: you play the first seat
    assert len(r.frames_rgb) == 3
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in r.frames_rgb)


def test_window_mode_runs_on_the_dummy_driver():
    r = play(SPREAD, [], events=ScriptedEventSource([[]] * 3), max_frames=3, fps=1000, seed=0)
    assert r.frames == 3


def test_headless_without_a_limit_is_refused():
    with pytest.raises(ValueError, match="max_frames or max_episodes"):
        play(SPREAD, [], headless=True)


# -- human policies ---------------------------------------------------------


def _keyboard(discrete=False, layout="both"):
    env = macflow_arena.make(SPREAD, discrete_actions=discrete)
    state = InputState()
    return KeyboardPolicy(env, "agent_0", state, layout=layout), state


def _act(policy):
    return policy.act({policy.seat: None})[policy.seat]


def test_human_policies_implement_the_policy_protocol():
    from macflow_arena.policies import Policy

    kb, state = _keyboard()
    pad = GamepadPolicy(macflow_arena.make(SPREAD), "agent_1", state)
    assert isinstance(kb, Policy) and isinstance(pad, Policy)
    assert kb.act({}) == {} and pad.act({"agent_1": None}).keys() == {"agent_1"}


def test_keyboard_continuous_directions_and_diagonals():
    kb, state = _keyboard()
    state.update([])
    np.testing.assert_array_equal(_act(kb), [0, 0])
    state.update([key_down("d")])
    np.testing.assert_allclose(_act(kb), [1, 0])
    state.update([key_down("w")])
    np.testing.assert_allclose(_act(kb), [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-6)
    state.update([key_down("a")])  # left and right cancel
    np.testing.assert_allclose(_act(kb), [0, 1])
    state.update([key_up("a"), key_up("d"), key_up("w"), key_down("down")])
    a = _act(kb)
    assert a.dtype == np.float32 and a.shape == (2,)
    np.testing.assert_allclose(a, [0, -1])


def test_keyboard_tap_within_one_frame_counts():
    kb, state = _keyboard()
    state.update([key_down("left"), key_up("left")])
    np.testing.assert_allclose(_act(kb), [-1, 0])
    state.update([])
    np.testing.assert_allclose(_act(kb), [0, 0])


def test_keyboard_discrete_maps_to_mpe_moves():
    kb, state = _keyboard(discrete=True)
    env_space = kb.space
    expected = {"a": 1, "d": 2, "s": 3, "w": 4, "left": 1, "right": 2, "down": 3, "up": 4}
    for key, move in expected.items():
        state.update([key_down(key)])
        a = _act(kb)
        assert int(a) == move and env_space.contains(int(a))
        state.update([key_up(key)])
        assert int(_act(kb)) == 0
    state.update([key_down("d")])
    state.update([key_down("w")])  # both held: the newest wins
    assert int(_act(kb)) == 4
    state.update([key_up("w")])
    assert int(_act(kb)) == 2


def test_keyboard_discrete_plays_in_the_loop():
    r = play(SPREAD, ["agent_0=keyboard"], events=_hold("d", 10), headless=True, max_frames=10, seed=2,
             overrides={"discrete_actions": True})
    idle = play(SPREAD, ["agent_0=keyboard"], headless=True, max_frames=10, seed=2,
                overrides={"discrete_actions": True})
    assert r.last_obs["agent_0"][2] > idle.last_obs["agent_0"][2] + 0.2


def test_keyboard_layouts_split_the_keys():
    wasd, state = _keyboard(layout="wasd")
    arrows = KeyboardPolicy(macflow_arena.make(SPREAD), "agent_1", state, layout="arrows")
    state.update([key_down("right")])
    np.testing.assert_allclose(_act(wasd), [0, 0])
    np.testing.assert_allclose(_act(arrows), [1, 0])


def test_gamepad_stick_with_deadzone():
    env = macflow_arena.make(SPREAD)
    state = InputState()
    pad = GamepadPolicy(env, "agent_0", state, deadzone=0.2)
    state.update([InputEvent("axis", axis=0, value=0.15)])
    np.testing.assert_array_equal(_act(pad), [0, 0])
    state.update([InputEvent("axis", axis=0, value=1.0), InputEvent("axis", axis=1, value=0.0)])
    np.testing.assert_allclose(_act(pad), [1, 0])
    state.update([InputEvent("axis", axis=0, value=0.0), InputEvent("axis", axis=1, value=-0.6)])
    np.testing.assert_allclose(_act(pad), [0, 0.5], atol=1e-6)  # pygame -y is up; rescaled past the deadzone
    state.update([InputEvent("axis", axis=-1)])  # unplugged: released
    np.testing.assert_array_equal(_act(pad), [0, 0])
    dpad = GamepadPolicy(macflow_arena.make(SPREAD, discrete_actions=True), "agent_0", state)
    state.update([InputEvent("axis", axis=1, value=-1.0)])
    assert int(_act(dpad)) == 4


def test_pygame_event_source_translates_events():
    from macflow_arena.play import PygameEventSource
    from macflow_arena.render.pg import pygame

    pg = pygame()
    pg.display.init()
    try:
        pg.display.set_mode((8, 8))
        source = PygameEventSource()
        source.poll()  # drain start-up events
        pg.event.post(pg.event.Event(pg.KEYDOWN, key=pg.K_d, mod=0, unicode="d", scancode=7))
        pg.event.post(pg.event.Event(pg.MOUSEBUTTONDOWN, pos=(3, 4), button=1))
        pg.event.post(pg.event.Event(pg.QUIT))
        got = source.poll()
        assert InputEvent("keydown", key="d") in got
        assert InputEvent("mousedown", pos=(3, 4), button=1) in got
        assert InputEvent("quit") in got
    finally:
        pg.display.quit()


# -- seats ------------------------------------------------------------------


def test_seat_parsing():
    specs = parse_seats(["agent_0=keyboard:wasd", "agent_1=random", "*=scripted"])
    assert specs["agent_0"].kind == "keyboard" and specs["agent_0"].arg == "wasd"
    assert specs["agent_1"].text == "random"
    assert parse_seats({"agent_2": "gamepad:1"})["agent_2"].arg == "1"
    assert parse_seats(None) == {}


@pytest.mark.parametrize(
    "items, match",
    [
        (["agent_0"], "AGENT=KIND"),
        (["agent_0="], "AGENT=KIND"),
        (["agent_0=keybord"], r"Did you mean keyboard\?.*Known kinds: keyboard, gamepad, scripted, random"),
        (["agent_0=random", "agent_0=scripted"], "assigned twice"),
        (["agent_0=random:3"], "takes no ':' argument"),
        (["agent_0=keyboard:"], "empty argument"),
    ],
)
def test_seat_parsing_errors(items, match):
    with pytest.raises(SeatError, match=match):
        parse_seats(items)


def test_unknown_seat_lists_the_env_agents():
    with pytest.raises(SeatError, match="agent_7.*seats are: agent_0, agent_1, agent_2"):
        play(SPREAD, ["agent_7=keyboard"], headless=True, max_frames=1)
    env = macflow_arena.make(SPREAD)
    with pytest.raises(SeatError, match="seats are: agent_0, agent_1, agent_2"):
        build_seating(env, parse_seats(["bob=random"]), InputState())


def test_bad_kind_argument_is_a_seat_error():
    with pytest.raises(SeatError, match="agent_0=keyboard:qwerty.*layout"):
        play(SPREAD, ["agent_0=keyboard:qwerty"], headless=True, max_frames=1)
    with pytest.raises(SeatError, match="gamepad number"):
        play(SPREAD, ["agent_0=gamepad:x"], headless=True, max_frames=1)


def test_tag_prey_seat_makes_the_prey_external():
    assert seat_overrides("particle/tag", ["predator_0"]) == {}
    assert seat_overrides("particle/tag", ["prey_0"]) == {"prey_control": "external"}
    with pytest.raises(SeatError, match=r"optional seats: prey_0 \(with prey_control='external'\)"):
        seat_overrides("particle/tag", ["prey_3"])
    events = _hold("left", 20)
    r = play("particle/tag", ["prey_0=keyboard"], events=events, headless=True, max_frames=20, seed=4)
    assert r.human_seats == ["prey_0"]
    assert r.seats == {"predator_0": "scripted", "predator_1": "scripted", "predator_2": "scripted",
                       "prey_0": "keyboard"}
    assert "prey_0" in r.last_obs


def test_importing_play_does_not_import_pygame():
    code = "import sys, macflow_arena.play, macflow_arena.video, macflow_arena.cli; print('pygame' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_1000_window_frames_without_memory_growth():
    import os

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    play("particle/tag", [], max_frames=100, fps=100_000, seed=0, size=64)  # warm up pygame and caches
    before = rss_mb()
    r = play("particle/tag", [], max_frames=1000, fps=100_000, seed=0, size=64)
    assert r.frames == 1000 and r.episodes >= 19
    assert rss_mb() - before < 10


class _DyingEnv:
    """A minimal ParallelEnv where agent b dies after step 2 and the episode ends at step 4."""

    metadata = {"name": "fake/dying", "render_fps": 10}
    possible_agents = ["a", "b"]

    def __init__(self):
        from gymnasium import spaces

        self._space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.agents: list[str] = []
        self.t = 0

    def action_space(self, agent):
        return self._space

    def reset(self, seed=None, options=None):
        self.agents, self.t = ["a", "b"], 0
        return {a: np.zeros(2) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        assert set(actions) == set(self.agents), (actions, self.agents)
        self.t += 1
        live = list(self.agents)
        obs = {a: np.zeros(2) for a in live}
        terms = {a: (a == "b" and self.t == 2) for a in live}
        truncs = {a: self.t == 4 for a in live}
        self.agents = [a for a in live if not terms[a] and not truncs[a]]
        return obs, {a: 1.0 for a in live}, terms, truncs, {a: {} for a in live}

    def render_frame(self, extra_hud=None):
        return np.zeros((8, 8, 3), np.uint8)


def test_dead_agents_get_no_action_and_frames_work_without_highlight():
    from macflow_arena.play import Session

    env = _DyingEnv()
    seating = build_seating(env, parse_seats(["*=random"]), InputState(), seed=0)
    session = Session(env, seating, seed=0)
    session.reset()
    ended = [session.step() for _ in range(4)]
    assert ended == [False, False, False, True]
    assert session.episode_return == 4.0  # first agent's rewards when the env has no team_return
    assert session.frame(["hud"]).shape == (8, 8, 3)  # render_frame without a highlight parameter


def test_keyboard_refuses_action_spaces_it_cannot_play():
    from gymnasium import spaces

    env = _DyingEnv()
    env._space = spaces.Discrete(9)
    with pytest.raises(ValueError, match="Discrete\\(9\\).*seat kind made for it"):
        KeyboardPolicy(env, "a", InputState())
