"""The skirmish drawer: frames, bars, attack lines, ranges, walls, banner, mouse mapping."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import macflow_arena
from macflow_arena.envs.skirmish.actions import ATTACK0, STOP
from macflow_arena.render import skirmish as draw_mod


def _near(frame, xy, color, radius=2):
    """Whether ``color`` appears within ``radius`` pixels of pixel ``xy``."""
    x, y = int(round(xy[0])), int(round(xy[1]))
    patch = frame[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]
    return bool((patch == np.array(color, dtype=np.uint8)).all(axis=-1).any())


def test_render_mode_none_never_imports_pygame():
    code = (
        "import sys, numpy as np, macflow_arena\n"
        "env = macflow_arena.make('skirmish/2s3z')\n"
        "obs, _ = env.reset(seed=0)\n"
        "for _ in range(5):\n"
        "    env.step({a: int(np.flatnonzero(obs[a]['action_mask'])[-1]) for a in env.agents})\n"
        "env.close(); env.close()\n"
        "assert 'pygame' not in sys.modules, 'pygame was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_frames_have_constant_even_size_over_an_episode():
    env = macflow_arena.make("skirmish/gen-5v5", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    shapes = {env.render().shape}
    while env.agents:
        obs, *_ = env.step({a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents})
        frame = env.render()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        shapes.add(frame.shape)
    assert len(shapes) == 1
    h, w, _ = shapes.pop()
    assert h % 2 == 0 and w % 2 == 0
    env.render_size = 301
    h2, w2, _ = env.render_frame().shape
    assert h2 % 2 == 0 and w2 % 2 == 0 and max(h2, w2) <= 302
    wide = macflow_arena.make("skirmish/3m", width=41.0, height=23.0, enemy_spawn=[30, 12], ally_spawn=[9, 12],
                              render_mode="rgb_array")
    wide.reset(seed=0)
    h3, w3, _ = wide.render().shape
    assert w3 > h3 and h3 % 2 == 0 and w3 % 2 == 0
    wide.close()
    wide.close()


def test_units_bars_lines_ranges_and_banner():
    env = macflow_arena.make("skirmish/3m", allies=["stalker", "marine"], enemies=["zealot", "marine"],
                             enemy_ai="idle", render_mode="rgb_array")
    env.reset_to(pos=[[10, 10], [10, 14], [14, 10], [25, 25]], hp=[80, 30, 100, 45], seed=0)
    d = env.drawer
    env.step({"ally_0": ATTACK0, "ally_1": STOP})  # the stalker shoots the zealot
    frame = env.render_frame()
    snap = env.core.snapshot(0)
    pix = d.to_pixels(snap["pos"])
    mid = (pix[0] + pix[2]) / 2
    assert _near(frame, mid, draw_mod.ALLY_SHOT), "attack line from the stalker to the zealot"
    assert not _near(frame, (pix[1] + pix[3]) / 2, draw_mod.ALLY_SHOT), "no line where nobody shot"
    for u in (0, 2):  # shielded types get a shield bar above the health bar
        r = d.radius_px(snap["radius"][u])
        assert _near(frame, (pix[u][0], pix[u][1] - r - 9 - 5 + 2), draw_mod.SHIELD_FG, radius=3)
    r = d.radius_px(snap["radius"][1])
    assert _near(frame, (pix[1][0] - r, pix[1][1] - r - 9 + 2), draw_mod.HP_FG, radius=3)
    assert not _near(frame, (pix[1][0], pix[1][1] - r - 14 + 2), draw_mod.SHIELD_FG, radius=1)
    # a selected unit: its ranges and the enemies it can attack (ringed)
    assert d.attackable(snap, 0).tolist() == [2]
    sel = env.render_frame(highlight=("ally_0",))
    assert not np.array_equal(sel, frame)
    reach = (snap["range"][0] + snap["radius"][0]) * d.scale  # the attack range circle: orange-ish
    edge = sel[int(round(pix[0][1] - reach)) - 2 : int(round(pix[0][1] - reach)) + 3, int(round(pix[0][0]))]
    assert ((edge[:, 0] > 200) & (edge[:, 2] < 120)).any()
    ring = d.radius_px(snap["radius"][2]) + 7
    assert _near(sel, (pix[2][0], pix[2][1] - ring), draw_mod.TARGETABLE, radius=2)
    # banner once the battle is over
    env.core.hp[0, 2:] = 0.0
    env.core.alive[0, 2:] = False
    env.step({a: STOP for a in env.agents})
    assert env.agents == [] and env.core.won[0]
    end = env.render_frame()
    banner = d.draw(env.core.snapshot(0), env.hud_lines(), banner=None)
    centre = (slice(d.height // 2 - 10, d.height // 2 + 10), slice(d.width // 2 - 60, d.width // 2 + 60))
    assert not np.array_equal(end[centre], banner[centre])


def test_walls_are_drawn():
    # the wall cell is column 3, row 6 from the top: x in [12, 16], y in [4, 8], between the two sides
    # (the camera frames the units, so the wall is in view)
    layout = ["........", "........", "........", "........", "........", "........", "...#....", "........"]
    env = macflow_arena.make("skirmish/3m", layout=layout, ally_spawn=[5, 5], enemy_spawn=[27, 5],
                             render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    x, y = env.drawer.to_pixels(np.array([14.0, 6.0]))
    assert (frame[int(y), int(x)] == draw_mod.WALL).all()
    x, y = env.drawer.to_pixels(np.array([18.5, 6.5]))
    assert not (frame[int(y), int(x)] == draw_mod.WALL).all()


def test_pixel_mapping_and_unit_picking():
    env = macflow_arena.make("skirmish/2s3z", render_mode="rgb_array")
    env.reset(seed=0)
    pos = env.core.pos[0]
    for u in range(env.task.n_units):
        px, py = env.drawer.to_pixels(pos[u])
        np.testing.assert_allclose(env.pixel_to_world(px, py), pos[u])
        assert env.unit_at_pixel(px, py) in (u, *np.flatnonzero(np.linalg.norm(pos - pos[u], axis=1) < 1.5))
    a = env.task.n_allies
    px, py = env.drawer.to_pixels(pos[a])
    assert env.unit_at_pixel(px, py, side="ally") is None and env.unit_at_pixel(px, py, side="enemy") >= a
    assert env.unit_at_pixel(2, 2) is None


def test_human_render_mode_opens_a_window_and_closes_twice():
    env = macflow_arena.make("skirmish/3m", render_mode="human")
    env.reset(seed=0)
    assert env.render() is None
    env.close()
    env.close()
    with pytest.raises(ValueError, match="render_mode"):
        macflow_arena.make("skirmish/3m", render_mode="ansi")
