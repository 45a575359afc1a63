"""Episode rules, spaces over long random runs, rendering, and one mechanic per test.

Mechanic tests build a state by hand (positions/velocities of world 0 of the
env's core), step once with known actions and compare with the MPE equations
worked out here independently.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import parallel_api_test

import macflow_arena
from macflow_arena.spec import SpecError
from _env_helpers import ENV_IDS, PARTICLE_IDS, check_obs, sample_actions

# -- episode length and agent bookkeeping ------------------------------------


@pytest.mark.parametrize("k", [1, 7])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_exactly_k_steps(env_id, k):
    try:
        env = macflow_arena.make(env_id, max_cycles=k)
    except SpecError:
        pytest.skip(f"{env_id} has no max_cycles key")
    rng = np.random.default_rng(k)
    for episode in range(2):
        obs, infos = env.reset(seed=episode)
        assert env.agents == env.possible_agents
        steps = 0
        while env.agents:
            live = list(env.agents)
            obs, rew, term, trunc, infos = env.step(sample_actions(env, obs, infos, rng))
            steps += 1
            for d in (obs, rew, term, trunc, infos):
                assert set(d) == set(live), "dicts hold exactly the agents live before the step"
            for a in live:
                if steps < k:
                    assert not trunc[a], f"truncated early at step {steps}"
                ended = term[a] or trunc[a]
                assert (a not in env.agents) == ended, f"{a}: ended={ended} but agents={env.agents}"
            if steps == k:
                assert all(trunc[a] or term[a] for a in live), "every agent is done at step k"
                assert all(trunc[a] for a in live if not term[a]), "truncated set at step k"
        assert steps <= k
        if not any(term.values()):
            assert steps == k, f"expected exactly {k} steps, got {steps}"
        assert env.agents == []
        if hasattr(env, "num_steps"):
            assert env.num_steps == steps


@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_vector_env_truncates_at_k(env_id):
    k = 5
    venv = macflow_arena.make_vec(env_id, 3, max_cycles=k)
    venv.reset(seed=0)
    act = np.zeros(venv.action_shape, dtype=np.float32)
    for t in range(1, 2 * k + 1):
        _, _, term, trunc, info = venv.step(act)
        assert not term.any()
        assert trunc.all() == (t % k == 0) and trunc.any() == (t % k == 0), t
        assert info["done"].all() == (t % k == 0)
        assert ("final_obs" in info) == (t % k == 0)


# -- long random runs: finite and in the spaces -------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_parallel_random_run_in_spaces(env_id):
    env = macflow_arena.make(env_id)
    rng = np.random.default_rng(11)
    obs, infos = env.reset(seed=11)
    state_space = getattr(env, "state_space", None)
    for _ in range(1_000):  # (10k+ steps per particle game run through the VectorEnv below)
        if not env.agents:
            obs, infos = env.reset()
        for a, o in obs.items():
            check_obs(env, a, o)
        obs, rew, term, trunc, infos = env.step(sample_actions(env, obs, infos, rng))
        for a in rew:
            assert isinstance(rew[a], (int, float)) and math.isfinite(rew[a]), rew
            assert isinstance(term[a], bool) and isinstance(trunc[a], bool)
        if state_space is not None:
            s = env.state()
            assert state_space.contains(s) and np.isfinite(s).all()


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_vector_random_10k_steps_in_spaces(env_id, discrete):
    """10,240 world-steps (64 worlds x 160 steps, several auto-resets) of uniform random actions."""
    B, T = 64, 160
    venv = macflow_arena.make_vec(env_id, B, discrete_actions=discrete)
    env = macflow_arena.make(env_id, discrete_actions=discrete)
    obs_spaces = [env.observation_space(a) for a in env.possible_agents]
    rng = np.random.default_rng(12)
    obs, _ = venv.reset(seed=12)
    bound = venv.scenario.world_size if venv.scenario.bounded else np.inf
    n_entities = venv.state_dim // 4
    for _ in range(T):
        if discrete:
            act = rng.integers(0, 5, size=venv.action_shape)
        else:
            act = rng.uniform(-1, 1, size=venv.action_shape).astype(np.float32)
        obs, rew, term, trunc, info = venv.step(act)
        assert obs.dtype == np.float32 and obs.shape == (B, venv.n_agents, venv.obs_dim)
        assert np.isfinite(obs).all() and np.isfinite(rew).all()
        for i, space in enumerate(obs_spaces):
            d = space.shape[0]
            assert all(space.contains(obs[b, i, :d]) for b in range(B))
        for v in info["metrics"].values():
            assert np.isfinite(np.asarray(v, dtype=np.float64)).all()
        state = venv.state()
        assert state.shape == (B, venv.state_dim) and np.isfinite(state).all()
        pos = state[:, : 2 * n_entities]
        assert (np.abs(pos) <= bound + 1e-6).all(), "an entity left the walled arena"
    assert B * T >= 10_000


# -- rendering ------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_pygame_without_render_mode(env_id):
    code = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import macflow_arena
        env = macflow_arena.make({env_id!r})
        obs, infos = env.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(5):
            acts = {{a: env.action_space(a).sample() for a in env.agents}}
            for a, o in obs.items():
                m = o.get("action_mask") if isinstance(o, dict) else infos[a].get("action_mask")
                if m is not None:
                    acts[a] = np.int64(np.flatnonzero(m)[0])
            obs, _, _, _, infos = env.step(acts)
        env.state() if hasattr(env, "state") else None
        env.close()
        env.close()
        venv = macflow_arena.make_vec({env_id!r}, 2)
        venv.reset(seed=0)
        bad = [m for m in ("pygame", "torch") if m in sys.modules]
        assert not bad, bad
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_frames(env_id):
    env = macflow_arena.make(env_id, render_mode="rgb_array")
    rng = np.random.default_rng(0)
    shape = None
    for episode in range(2):
        obs, infos = env.reset(seed=episode)
        for _ in range(6):
            frame = env.render()
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
            assert frame.ndim == 3 and frame.shape[2] == 3
            assert frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0, frame.shape
            shape = shape or frame.shape
            assert frame.shape == shape, "frame size changed"
            assert frame.std() > 0, "blank frame"
            if not env.agents:
                break
            obs, _, _, _, infos = env.step(sample_actions(env, obs, infos, rng))
    env.close()
    env.close()


@pytest.mark.parametrize("mode", [None, "rgb_array", "human"])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_close_twice(env_id, mode):
    env = macflow_arena.make(env_id, render_mode=mode)
    env.close()  # before reset
    env = macflow_arena.make(env_id, render_mode=mode)
    obs, infos = env.reset(seed=0)
    if mode is not None:
        env.render()
    env.close()
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rendering_survives_pygame_quit(env_id):
    """Another library in the process (mpe2's close() does) may call pygame.quit()."""
    import pygame

    env = macflow_arena.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    pygame.quit()
    np.testing.assert_array_equal(env.render(), first)
    other = macflow_arena.make(env_id, render_mode="rgb_array")
    other.reset(seed=0)
    np.testing.assert_array_equal(other.render(), first)
    env.close()
    other.close()


def test_bad_render_mode():
    with pytest.raises(ValueError, match="render_mode"):
        macflow_arena.make("particle/spread", render_mode="ascii")


def test_render_without_mode_warns():
    env = macflow_arena.make("particle/spread")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode=None"):
        assert env.render() is None


# -- mechanics from a constructed state ----------------------------------------


def _placed(env_id, pos, vel=None, seed=0, **overrides):
    """An env reset with world 0 overwritten by ``pos``/``vel`` (all entities, [E, 2])."""
    env = macflow_arena.make(env_id, **overrides)
    env.reset(seed=seed)
    core = env._core
    assert core.pos.shape[1:] == np.shape(pos), "positions for every entity"
    core.pos[0] = pos
    core.vel[0] = 0.0 if vel is None else vel
    return env, core


def _zero(env):
    return {a: np.zeros(2, dtype=np.float32) for a in env.agents}


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


FAR = [[-1.2, 1.2], [1.2, 1.2], [1.2, -1.2]]  # three spots far from each other and from (0, 0)


def test_contact_pushes_overlapping_agents_apart():
    # spread: agents 0 and 1 overlap (radius 0.15 each, 0.1 apart), agent 2 and the
    # non-colliding landmarks elsewhere.
    pos = [[0.0, 0.0], [0.1, 0.0], [-1.2, -1.2]] + FAR
    env, core = _placed("particle/spread", pos)
    env.step(_zero(env))
    s = env.scenario
    dist, dmin = 0.1, 2 * s.agent_size
    k = s.contact_margin
    f = s.contact_force * k * _softplus(-(dist - dmin) / k)  # magnitude, along the line of centres
    v = f * s.dt  # unit mass, from rest
    np.testing.assert_allclose(core.vel[0, 0], [-v, 0.0], rtol=1e-12)
    np.testing.assert_allclose(core.vel[0, 1], [v, 0.0], rtol=1e-12)
    np.testing.assert_allclose(core.pos[0, 0], [-v * s.dt, 0.0], rtol=1e-12)
    np.testing.assert_allclose(core.pos[0, 1], [0.1 + v * s.dt, 0.0], rtol=1e-12)
    np.testing.assert_array_equal(core.vel[0, 2], [0.0, 0.0])
    assert np.linalg.norm(core.pos[0, 1] - core.pos[0, 0]) > dist


def test_coincident_agents_get_no_nan():
    pos = [[0.3, 0.3], [0.3, 0.3], [-1.2, -1.2]] + FAR
    env, core = _placed("particle/spread", pos)
    obs, rew, *_ = env.step(_zero(env))
    assert np.isfinite(core.pos).all() and np.isfinite(core.vel).all()
    assert all(np.isfinite(o).all() for o in obs.values())


@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_damping_with_zero_action(env_id):
    """With no force, velocity decays by (1 - damping) = 0.75 per step and position follows it."""
    env = macflow_arena.make(env_id)
    env.reset(seed=0)
    core = env._core
    n_agents, n_ent = core.task.n_agents_total, core.pos.shape[1]
    # agents on a wide ring, landmarks/obstacles in the corners: nothing touches
    angles = np.linspace(0, 2 * np.pi, n_agents, endpoint=False)
    corners = np.array([[1.2, 1.2], [-1.2, 1.2], [-1.2, -1.2], [1.2, -1.2]])
    core.pos[0, :n_agents] = 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    core.pos[0, n_agents:] = corners[np.arange(n_ent - n_agents) % 4]
    core.vel[0] = 0.0
    v = np.array([0.3, -0.2])
    core.vel[0, 0] = v
    p = core.pos[0, 0].copy()
    s = env.scenario
    for _ in range(4):
        env.step(_zero(env))
        v = v * (1 - s.damping)
        p = p + v * s.dt
        np.testing.assert_allclose(core.vel[0, 0], v, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(core.pos[0, 0], p, rtol=1e-12, atol=1e-12)
    assert s.damping == 0.25
    np.testing.assert_allclose(core.vel[0, 0], np.array([0.3, -0.2]) * 0.75**4, rtol=1e-12)


def _reference_contact_forces(ph, pos):
    """The MPE contact force over the full C x C matrix (the formulation physics.py replaces)."""
    col = np.flatnonzero(ph.table.collide)
    p = pos[:, col]
    size = ph.table.size[col]
    delta = p[:, :, None, :] - p[:, None, :, :]
    dist = np.sqrt(np.einsum("bijk,bijk->bij", delta, delta))
    k = ph.contact_margin
    pen = np.logaddexp(0.0, -(dist - (size[:, None] + size[None, :])[None]) / k) * k
    pen = np.where(~np.eye(len(col), dtype=bool)[None], pen, 0.0)
    scale = np.divide(pen, dist, out=np.zeros_like(dist), where=dist > 0)
    force = ph.contact_force * np.einsum("bij,bijk->bik", scale, delta)
    return force * ph.table.movable[col][None, :, None]


@pytest.mark.parametrize("overrides", [{}, {"n_agents": 5, "agent_size": 0.3}, {"n_agents": 2}])
@pytest.mark.parametrize("B", [1, 7])
def test_contact_forces_equal_the_full_matrix_formula(B, overrides):
    """The pairwise contact computation is bit-identical to MPE's full-matrix one (incl. coincident entities)."""
    for env_id, kw in (("particle/spread", overrides), ("particle/tag", {"n_obstacles": 3})):
        env = macflow_arena.make(env_id, **kw)
        ph = env._core.physics
        rng = np.random.default_rng(B)
        pos = rng.uniform(-0.5, 0.5, size=(B,) + env._core.pos.shape[1:])
        pos[0, 1] = pos[0, 0]  # coincident
        np.testing.assert_array_equal(ph.contact_forces(pos), _reference_contact_forces(ph, pos))


def test_max_speed_cap():
    # tag: predator_0 moving at 2.0 (over its cap of 1.0), pushed further forward.
    pos = [[0.0, 0.0], [0.6, 0.6], [-0.6, 0.6], [0.0, -1.2], [1.2, 1.2], [-1.2, -1.2]]
    vel = np.zeros((6, 2))
    vel[0] = [2.0, 0.0]
    env, core = _placed("particle/tag", pos, vel)
    acts = _zero(env)
    acts["predator_0"] = np.array([1.0, 0.0], dtype=np.float32)
    env.step(acts)
    s = env.scenario
    np.testing.assert_allclose(core.vel[0, 0], [s.predator_max_speed, 0.0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(core.pos[0, 0], [s.predator_max_speed * s.dt, 0.0], rtol=1e-12, atol=1e-12)
    assert np.linalg.norm(core.vel[0, 0]) == pytest.approx(s.predator_max_speed, rel=1e-12)
    # below the cap nothing is rescaled
    core.vel[0, 0] = [0.4, 0.0]
    x = core.pos[0, 0, 0]
    env.step(_zero(env))
    np.testing.assert_allclose(core.vel[0, 0], [0.3, 0.0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(core.pos[0, 0, 0], x + 0.03, rtol=1e-12)


def test_walls_clamp_position():
    pos = [[1.45, 0.0], [-1.45, 0.5], [0.0, 0.0]] + FAR
    vel = np.zeros((6, 2))
    vel[0] = [1.0, 0.4]  # into the right wall, sliding along it
    vel[1] = [-0.2, 0.0]  # towards the left wall, not reaching it this step
    env, core = _placed("particle/spread", pos, vel)
    env.step(_zero(env))
    w = env.scenario.world_size
    assert core.pos[0, 0, 0] == w and core.vel[0, 0, 0] == 0.0
    np.testing.assert_allclose(core.vel[0, 0, 1], 0.3, rtol=1e-12)
    np.testing.assert_allclose(core.pos[0, 0, 1], 0.03, rtol=1e-12)
    np.testing.assert_allclose(core.pos[0, 1], [-1.45 - 0.015, 0.5], rtol=1e-12)
    # without walls the agent leaves the arena
    env, core = _placed("particle/spread", pos, vel, bounded=False)
    env.step(_zero(env))
    assert core.pos[0, 0, 0] > w


def _contacts(core, s):
    p, q = s.n_predators, s.n_prey
    pred, prey = core.pos[0, :p], core.pos[0, p : p + q]
    return sum(
        float(np.hypot(*(pred[i] - prey[j]))) < s.predator_size + s.prey_size for i in range(p) for j in range(q)
    )


def test_tag_catch_reward():
    # external prey (a seat): predator_0 runs into the prey, which runs into it.
    pos = [[0.0, 0.0], [-1.2, 0.8], [1.2, -0.8], [0.1, 0.0], [1.2, 1.2], [-1.2, -1.2]]
    vel = np.zeros((6, 2))
    vel[0] = [1.0, 0.0]
    env, core = _placed("particle/tag", pos, vel, prey_control="external")
    acts = _zero(env)
    acts["predator_0"] = np.array([1.0, 0.0], dtype=np.float32)
    acts["prey_0"] = np.array([-1.0, 0.0], dtype=np.float32)
    obs, rew, _, _, infos = env.step(acts)
    s = env.scenario
    assert _contacts(core, s) == 1
    for a in ("predator_0", "predator_1", "predator_2"):
        assert rew[a] == s.catch_reward
    assert rew["prey_0"] == -s.catch_reward
    assert infos["predator_0"]["catches"] == 1
    # apart: nothing
    pos[3] = [0.6, 0.0]
    env, core = _placed("particle/tag", pos, prey_control="external")
    _, rew, *_ = env.step(_zero(env))
    assert _contacts(core, s) == 0 and set(rew.values()) == {0.0}


def test_tag_catch_reward_scripted_prey():
    # two predators pin the scripted prey against each other; reward = catch_reward * contacts
    pos = [[-0.08, 0.0], [0.08, 0.0], [1.2, -0.8], [0.0, 0.0], [1.2, 1.2], [-1.2, -1.2]]
    vel = np.zeros((6, 2))
    vel[0], vel[1] = [1.0, 0.0], [-1.0, 0.0]
    env, core = _placed("particle/tag", pos, vel)
    acts = _zero(env)
    acts["predator_0"] = np.array([1.0, 0.0], dtype=np.float32)
    acts["predator_1"] = np.array([-1.0, 0.0], dtype=np.float32)
    _, rew, *_ = env.step(acts)
    s = env.scenario
    hits = _contacts(core, s)
    assert hits >= 1
    assert set(rew.values()) == {s.catch_reward * hits}


def _cover_env(agent_pos):
    """cover with the landmarks on a known triangle around (0.1, -0.1)."""
    c = np.array([0.1, -0.1])
    env = macflow_arena.make("particle/cover")
    env.reset(seed=0)
    s = env.scenario
    th = 0.3 + 2 * np.pi * np.arange(3) / 3
    lm = c + s.landmark_radius * np.stack([np.cos(th), np.sin(th)], axis=1)
    core = env._core
    core.pos[0, :3] = agent_pos(lm)
    core.pos[0, 3:] = lm
    core.vel[0] = 0.0
    return env, lm


def _cover_reward_by_hand(s, agents, lm):
    holders = [sum(np.hypot(*(a - l)) < s.cover_radius for a in agents) for l in lm]
    unique = sum(h == 1 for h in holders)
    nearest = [min(np.hypot(*(a - l)) for a in agents) for l in lm]
    return s.success_reward * (unique == 3) + s.covered_weight * unique / 3 - s.distance_weight * np.mean(nearest)


@pytest.mark.parametrize(
    "name,placement,success",
    [
        ("one on each", lambda lm: lm.copy(), True),
        ("one on each, off centre", lambda lm: lm + [[0.05, 0.0], [0.0, -0.07], [-0.06, 0.06]], True),
        ("two on one", lambda lm: np.stack([lm[0], lm[0] + 0.02, lm[1]]), False),
        ("all three on one", lambda lm: np.stack([lm[0], lm[0], lm[0] + 0.01]), False),
        ("one just outside", lambda lm: lm + [[0.0, 0.0], [0.0, 0.0], [0.105, 0.0]], False),
        ("at the start", lambda lm: np.repeat(lm.mean(axis=0, keepdims=True), 3, axis=0), False),
    ],
)
def test_cover_success_reward(name, placement, success):
    env, lm = _cover_env(placement)
    s = env.scenario
    agents = env._core.pos[0, :3].copy()
    _, rew, _, _, infos = env.step(_zero(env))
    np.testing.assert_array_equal(env._core.pos[0, :3], agents)  # nothing moved
    expected = _cover_reward_by_hand(s, agents, lm)
    for a in env.possible_agents:
        assert rew[a] == pytest.approx(expected, abs=1e-12), name
        assert infos[a]["covered"] is success
    assert (expected >= s.success_reward) == success


def _spread_reward_by_hand(s, pos):
    n = s.n_agents
    agents, lms = pos[:n], pos[n:]
    cover = sum(min(np.hypot(*(a - l)) for a in agents) for l in lms)
    pairs = sum(np.hypot(*(agents[i] - agents[j])) < 2 * s.agent_size for i in range(n) for j in range(i + 1, n))
    return -cover - s.collision_penalty * pairs, pairs


def _toward(points, target, speed):
    d = np.asarray(target, dtype=float) - np.asarray(points, dtype=float)
    n = np.linalg.norm(d, axis=1, keepdims=True)
    return speed * np.divide(d, n, out=np.zeros_like(d), where=n > 0)


_TRI = [[0.0, 0.0], [0.2, 0.0], [0.1, 0.2 * math.sqrt(3) / 2]]


@pytest.mark.parametrize(
    "agents,speed,pairs",
    [
        ([[0.0, 0.0], [0.9, 0.1], [-0.7, 0.6]], 0.0, 0),
        # overlapping agents running into each other stay overlapped after the push
        ([[0.0, 0.0], [0.2, 0.0], [-0.7, 0.6]], 1.0, 1),
        (_TRI, 2.0, 3),
    ],
)
def test_spread_reward(agents, speed, pairs):
    lms = [[0.5, 0.5], [-0.4, 0.2], [0.3, -0.9]]
    vel = np.zeros((6, 2))
    centre = np.mean(agents[:2], axis=0) if pairs == 1 else np.mean(agents, axis=0)
    vel[:3] = _toward(agents, centre, speed)
    if pairs == 1:
        vel[2] = 0.0
    env, core = _placed("particle/spread", agents + lms, vel)
    _, rew, _, _, infos = env.step(_zero(env))
    expected, hits = _spread_reward_by_hand(env.scenario, core.pos[0])  # positions after the step
    assert hits == pairs
    assert infos["agent_0"]["collisions"] == pairs
    for a in env.possible_agents:
        assert rew[a] == pytest.approx(expected, abs=1e-12)
    if pairs == 0:  # nothing moved: the reward is the hand-computed one for the placed state
        assert expected == pytest.approx(-sum(min(np.hypot(*(np.subtract(a, l))) for a in agents) for l in lms))


# -- discrete actions -------------------------------------------------------------


@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_discrete_mode_api(env_id):
    env = macflow_arena.make(env_id, discrete_actions=True)
    for a in env.possible_agents:
        assert env.action_space(a) == spaces.Discrete(5)
    parallel_api_test(env, num_cycles=60)


@pytest.mark.parametrize(
    "move,direction", [(0, (0, 0)), (1, (-1, 0)), (2, (1, 0)), (3, (0, -1)), (4, (0, 1))]
)
def test_discrete_moves_push_the_right_way(move, direction):
    pos = [[0.0, 0.0], [0.9, 0.1], [-0.7, 0.6]] + FAR
    env, core = _placed("particle/spread", pos, discrete_actions=True)
    acts = {a: 0 for a in env.agents}
    acts["agent_0"] = move
    env.step(acts)
    s = env.scenario
    expected_v = np.array(direction, dtype=float) * s.agent_accel * s.dt
    # The soft contact force (softplus) is never exactly zero, only ~1e-265 at this range.
    np.testing.assert_allclose(core.vel[0, 0], expected_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(core.pos[0, 0], expected_v * s.dt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(core.vel[0, 1:3], 0.0, atol=1e-12)
