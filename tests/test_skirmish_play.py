"""Playing skirmish seats with synthetic key and mouse events (no keyboard, no window)."""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena
from macflow_arena.envs.skirmish.actions import ATTACK0, STOP
from macflow_arena.play import InputEvent, InputState, ScriptedEventSource, Session, build_seating, key_down, key_up
from macflow_arena.play import parse_seats, play
from macflow_arena.play.seats import SeatError
from macflow_arena.play.skirmish_input import SkirmishHumanPolicy


def click(pos, button=1):
    return [InputEvent("mousedown", pos=tuple(int(v) for v in pos), button=button),
            InputEvent("mouseup", pos=tuple(int(v) for v in pos), button=button)]


class Game:
    """A session driven frame by frame with synthetic events (the loop's inner step)."""

    def __init__(self, env_id="skirmish/3m", seats=("ally_0=keyboard",), seed=0, **overrides):
        self.env = macflow_arena.make(env_id, render_mode="rgb_array", **{"illegal_action": "raise", **overrides})
        self.state = InputState()
        self.seating = build_seating(self.env, parse_seats(list(seats)), self.state, seed)
        self.session = Session(self.env, self.seating, seed=seed)
        self.session.reset()
        self.human = self.seating.humans[0] if self.seating.humans else None
        self.sent: list[dict] = []

    @property
    def core(self):
        return self.env.core

    def frame(self, events=()):
        self.state.update(events)
        obs = {a: o for a, o in self.session.obs.items() if a in self.env.agents}
        before = {a: o["action_mask"].copy() for a, o in obs.items()}
        done = self.session.step()  # the env raises on any masked action
        self.sent.append(before)
        return done

    def pixel(self, unit):
        return self.env.drawer.to_pixels(self.core.pos[0, unit])


def test_keyboard_moves_while_held_then_stops():
    g = Game(enemy_ai="idle")
    x0 = g.core.pos[0, 0].copy()
    step = g.core.move_len[0, 0]
    g.frame([key_down("d")])
    g.frame()
    g.frame([key_up("d")])  # released before this frame's step: no move
    np.testing.assert_allclose(g.core.pos[0, 0], x0 + [2 * step, 0])
    g.frame([key_down("d"), key_up("d")])  # a tap within one frame still moves once
    np.testing.assert_allclose(g.core.pos[0, 0], x0 + [3 * step, 0])
    g.frame()
    np.testing.assert_allclose(g.core.pos[0, 0], x0 + [3 * step, 0])  # released: stands
    g.frame([key_down("w"), key_down("a")])  # the newest key wins
    np.testing.assert_allclose(g.core.pos[0, 0], x0 + [2 * step, 0])
    g.frame([key_up("a")])
    np.testing.assert_allclose(g.core.pos[0, 0], x0 + [2 * step, step])


def test_number_key_attacks_the_labelled_enemy_until_it_dies():
    g = Game(enemy_ai="idle")
    g.frame([key_down("2"), key_up("2")])  # label 2 = enemy_1
    assert g.human.order == ("attack", 4) and "attack enemy 2" in g.human.controls
    fired = []
    for _ in range(60):
        if g.frame():
            break
        fired.append(int(g.core.target[0, 0]))
    a = g.env.task.n_allies
    assert a + 1 in fired  # it closed in and shot enemy_1
    assert not g.core.alive[0, a + 1] or g.human.order == ("attack", a + 1)
    assert all(t in (-1, a + 1) for t in fired)


def test_stop_key_cancels_the_order():
    g = Game(enemy_ai="idle")
    g.frame([key_down("1"), key_up("1")])
    assert g.human.order == ("attack", 3)
    x = g.core.pos[0, 0].copy()
    g.frame([key_down("space"), key_up("space")])
    assert g.human.order is None
    g.frame()
    np.testing.assert_allclose(g.core.pos[0, 0], x)


def test_left_click_moves_to_the_point():
    g = Game(seats=("ally_0=mouse",), enemy_ai="idle")
    goal = g.core.pos[0, 0] + np.array([-4.0, 3.0])
    px = g.env.drawer.to_pixels(goal)
    np.testing.assert_allclose(g.env.pixel_to_world(*px), goal)
    g.frame(click(px))
    assert g.human.order[0] == "move"
    assert g.human.overlay()["marker"] is not None
    for _ in range(12):
        g.frame()
    assert np.abs(g.core.pos[0, 0] - goal).max() <= g.core.move_len[0, 0] / 2 + 1e-9
    assert g.human.order is None and g.human.overlay()["marker"] is None


def test_right_click_on_an_enemy_attacks_it():
    g = Game(seats=("ally_0=mouse",), enemy_ai="idle")
    a = g.env.task.n_allies
    g.frame(click(g.pixel(a + 2), button=3))
    assert g.human.order == ("attack", a + 2)
    for _ in range(30):
        g.frame()
        if g.core.target[0, 0] == a + 2:
            break
    assert g.core.target[0, 0] == a + 2
    # right click on empty ground: a move order
    g.frame(click((5, 600), button=3))
    assert g.human.order[0] == "move"


def test_healer_seat_heals_with_number_keys_and_right_click():
    g = Game(allies=["medivac", "marine"], enemies=["marine"], enemy_ai="idle")
    g.session.obs, g.session.infos = g.env.reset_to(pos=[[10, 10], [11, 10], [25, 25]], hp=[150, 20, 45])
    g.frame([key_down("1"), key_up("1")])
    assert g.human.order == ("heal", 1) and g.core.hp[0, 1] > 20
    g.human.order = None
    g.frame(click(g.pixel(1), button=3))
    assert g.human.order == ("heal", 1)


def test_human_actions_are_always_legal_in_a_full_game():
    """Random clicks and keys for a whole battle: the env (illegal_action="raise") never complains."""
    rng = np.random.default_rng(0)
    g = Game("skirmish/gen-5v5", seed=3)
    w, h = g.env.drawer.size
    keys = ["w", "a", "s", "d", "1", "2", "3", "5", "0", "space"]
    for t in range(200):
        events = []
        r = rng.random()
        if r < 0.2:
            events = click((rng.integers(w), rng.integers(h)), button=int(rng.choice([1, 3])))
        elif r < 0.4:
            k = str(rng.choice(keys))
            events = [key_down(k)] + ([key_up(k)] if rng.random() < 0.5 else [])
        if g.frame(events):
            g.session.reset()
    assert g.session.total_steps == 200


def test_play_loop_with_scripted_events_and_defaults():
    env = macflow_arena.make("skirmish/3m")
    env.reset(seed=7)
    enemy_px = env.drawer.to_pixels(env.core.pos[0, 3])
    ev = ScriptedEventSource.at(50, {0: [key_down("d")], 3: [key_up("d")], 4: click(enemy_px, button=3)})
    r = play("skirmish/3m", None, events=ev, headless=True, max_frames=50, seed=7, record_frames=True)
    assert r.human_seats == ["ally_0"] and r.seats["ally_0"] == "keyboard" and r.seats["ally_1"] == "scripted"
    assert r.frames == 50 and len(r.frames_rgb) == 50
    shapes = {f.shape for f in r.frames_rgb}
    assert len(shapes) == 1 and all(s % 2 == 0 for s in shapes.pop()[:2])
    assert r.episodes >= 1 and r.returns[0] > 0


def test_seat_kind_errors():
    with pytest.raises(SeatError, match="mouse seats play skirmish maps"):
        play("particle/spread", ["agent_0=mouse"], headless=True, max_frames=1)
    with pytest.raises(SeatError, match="takes no ':' argument"):
        play("skirmish/3m", ["ally_0=mouse:left"], headless=True, max_frames=1)
    env = macflow_arena.make("skirmish/3m")
    with pytest.raises(ValueError, match="not a seat"):
        SkirmishHumanPolicy(env, "enemy_0", InputState())
    assert STOP == 1 and ATTACK0 == 6


# -- the enemy side as seats: play --against ----------------------------------------------


def test_external_enemy_seats_pass_pettingzoo_tests():
    from pettingzoo.test import parallel_api_test

    env = macflow_arena.make("skirmish/3m", enemy_control="external")
    assert env.possible_agents[3:] == ["enemy_0", "enemy_1", "enemy_2"]
    assert env.action_space("enemy_0") == env.action_space("ally_0")
    parallel_api_test(env, num_cycles=200)
    env = macflow_arena.make("skirmish/5m_vs_6m", enemy_control="external")
    obs, _ = env.reset(seed=0)
    assert env.action_space("enemy_0").n == 6 + 5 and env.action_space("ally_0").n == 6 + 6
    assert obs["enemy_0"]["observation"].shape == env.observation_space("enemy_0")["observation"].shape
    with pytest.raises(ValueError, match="VectorEnv"):
        macflow_arena.make_vec("skirmish/3m", 2, enemy_control="external")


def test_enemy_seat_sees_and_acts_from_its_side():
    env = macflow_arena.make("skirmish/3m", enemy_control="external", allies=["marine"], enemies=["marine"])
    obs, _ = env.reset_to(pos=[[10, 10], [13, 10]], hp=[45, 45], seed=0)
    o = obs["enemy_0"]["observation"]
    assert o[4] == 1 and o[5] == 1 and o[7] == pytest.approx(-3 / 9)  # the ally is west, in range
    assert obs["enemy_0"]["action_mask"][ATTACK0] == 1
    _, rew, *_ = env.step({"ally_0": STOP, "enemy_0": ATTACK0})
    assert env.core.hp[0, 0] == 45 - 6 and env.core.hp[0, 1] == 45
    assert rew["enemy_0"] > 0 and rew["ally_0"] == 0
    scripted = macflow_arena.policies.ScriptedPolicy(env)
    acts = scripted.act({a: o for a, o in env.step({"ally_0": STOP, "enemy_0": STOP})[0].items()})
    assert set(acts) == {"ally_0", "enemy_0"}


def _drag(a, b):
    return [InputEvent("mousedown", pos=tuple(int(v) for v in a), button=1),
            InputEvent("mousemove", pos=tuple(int(v) for v in b)),
            InputEvent("mouseup", pos=tuple(int(v) for v in b), button=1)]


def test_commander_selects_and_orders_the_enemy_side():
    from macflow_arena.play.skirmish_commander import SkirmishCommander, against_seats

    seats = against_seats("skirmish/3m")
    assert seats == ["enemy_0=commander", "enemy_1=commander", "enemy_2=commander"]
    g = Game(seats=seats, enemy_control="external")
    cmd = next(p for p, _ in g.seating.groups if isinstance(p, SkirmishCommander))
    assert cmd.selected == [3, 4, 5] and g.seating.humans == []
    g.frame(click(g.pixel(4)))  # click one unit: only it is selected
    assert cmd.selected == [4]
    g.frame([key_down("left shift")] + click(g.pixel(5)))  # shift-click adds
    assert cmd.selected == [4, 5]
    pix = g.env.drawer.to_pixels(g.core.pos[0, 3:])
    g.frame(_drag(pix.min(axis=0) - 10, pix.max(axis=0) + 10))  # a box around the whole team
    assert cmd.selected == [3, 4, 5]
    g.frame([key_up("left shift")] + click(g.pixel(1), button=3))  # attack ally_1
    assert all(cmd.orders[u] == ("attack", 1) for u in (3, 4, 5))
    for _ in range(25):
        if g.frame():
            break
        if (g.core.target[0, 3:] == 1).any():
            break
    assert (g.core.target[0, 3:] == 1).any()
    frame = g.env.render_frame()
    assert frame.shape == (640, 640, 3)
    g.frame([key_down("tab"), key_down("x")])
    assert all(cmd.orders[u] is None for u in (3, 4, 5))


def test_against_from_the_command_line(capsys):
    from macflow_arena.cli import main

    assert main(["play", "skirmish/3m", "--against", "--headless", "--frames", "40", "--seed", "1"]) == 0
    assert "skirmish/3m-v0 seed 1: 40 frames" in capsys.readouterr().out
    assert main(["play", "particle/spread", "--against", "--headless", "--frames", "2"]) != 0
    rng = np.random.default_rng(1)
    g = Game("skirmish/gen-5v5", seats=[f"enemy_{i}=commander" for i in range(5)], seed=2,
             enemy_control="external")
    w, h = g.env.drawer.size
    for _ in range(150):  # random clicks and drags: every action stays legal
        r = rng.random()
        events = []
        if r < 0.3:
            events = click((rng.integers(w), rng.integers(h)), button=int(rng.choice([1, 3])))
        elif r < 0.4:
            events = _drag((rng.integers(w), rng.integers(h)), (rng.integers(w), rng.integers(h)))
        elif r < 0.45:
            events = [key_down("tab")]
        if g.frame(events):
            g.session.reset()
