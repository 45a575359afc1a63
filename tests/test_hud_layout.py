"""The HUD is a bar above the arena: it hides nothing; compare tiles stay legible; the skirmish
camera frames the battle (issue #12, item 6)."""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena
from macflow_arena.policies import ScriptedPolicy
from macflow_arena.render.pg import font, hud_bar_for, hud_font_size, hud_rows, pack_hud_lines

LONG_HUD = ["fps 10/10", "you: agent_0 (keyboard: WASD)", "team spread-macflow (macflow) 0.52 ms/decision",
            "PAUSED (P resumes)", "R reset  P pause  Esc quit"]


@pytest.mark.parametrize("env_id", ["particle/tag", "particle/cover", "particle/spread"])
@pytest.mark.parametrize("size", [240, 360, 600])
def test_particle_hud_changes_nothing_below_its_bar(env_id, size):
    env = macflow_arena.make(env_id, render_mode="rgb_array")
    env.render_size = size
    env.reset(seed=0)
    s = env.task.spec.world_size
    env._core.pos[0, :, :] = [-s, s]  # every entity in the top-left corner, where the old HUD panel sat
    plain, busy = env.render_frame([]), env.render_frame(LONG_HUD)
    bar = env._drawer.bar
    assert 0 < bar < 0.3 * size
    assert not np.array_equal(plain[:bar], busy[:bar])  # the HUD is drawn ...
    np.testing.assert_array_equal(plain[bar:], busy[bar:])  # ... and only in its bar
    top = env._drawer.to_pixels(np.array([0.0, s]))[1]  # an entity touching the top wall: all of it below the bar
    assert top - env._drawer.radii_px().max() >= bar
    env.close()


def test_skirmish_hud_changes_nothing_below_its_bar_over_a_battle():
    env = macflow_arena.make("skirmish/2s3z", render_mode="rgb_array")
    obs, _ = env.reset(seed=2)
    pol = ScriptedPolicy(env, seed=0)
    while env.agents:
        plain, busy = env.render_frame([]), env.render_frame(LONG_HUD)
        bar = env.drawer.bar
        np.testing.assert_array_equal(plain[bar:], busy[bar:])
        pix = env.drawer.to_pixels(env.core.pos[0])
        r = max(env.drawer.radius_px(x) for x in env.core.snapshot(0)["radius"])
        assert (pix[:, 1] - r - 14 >= bar).all() and (pix[:, 1] + r <= env.drawer.height).all()  # bars included
        assert (pix[:, 0] - r >= 0).all() and (pix[:, 0] + r <= env.drawer.width).all()
        obs, *_ = env.step(pol.act({a: obs[a] for a in env.agents}))
    env.close()


@pytest.mark.parametrize("env_id", ["skirmish/2s3z", "skirmish/3m", "skirmish/gen-10v10"])
def test_skirmish_camera_fills_the_frame_with_the_battle(env_id):
    env = macflow_arena.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    env.render_frame()
    d = env.drawer
    pix = d.to_pixels(env.core.pos[0])
    spread = pix.max(axis=0) - pix.min(axis=0)
    # the units' box spans at least half the arena across or down (the whole map showed it in ~a third)
    assert max(spread[0] / d.width, spread[1] / (d.height - d.bar)) > 0.5, spread
    np.testing.assert_allclose(env.pixel_to_world(*pix[0]), env.core.pos[0, 0])  # clicks map through the camera
    env.close()


def test_compare_tiles_of_240_px_keep_labels_legible():
    assert hud_font_size(240) >= 16 and hud_bar_for(240, 240) > 0
    f = font(hud_font_size(240))
    rows = pack_hud_lines(["particle/tag-v0  step 30/50", "team return 20.00", "tag-macflow (macflow)",
                           "episode 1/1 seed 3"], lambda t: f.size(t)[0] <= 240 - 12, hud_rows(240))
    assert "tag-macflow (macflow)" in " ".join(rows) and not any(r.endswith("...") for r in rows)
    env = macflow_arena.make("particle/tag", render_mode="rgb_array")
    env.render_size = 240
    env.reset(seed=0)
    env.render_frame()
    d = env._drawer
    assert d._min_agent >= 7 and all(lab.get_height() >= 12 for lab in d._labels)  # agents and numbers readable
    env.close()
