"""Skirmish env API: spaces, masks, illegal actions, the VectorEnv, the enemy AI,
procedural maps, policies and scenario errors."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

import macflow_arena
from macflow_arena import registry
from macflow_arena.envs.skirmish.actions import ATTACK0, EAST, STOP
from macflow_arena.envs.skirmish.enemy_ai import hash_uniform
from macflow_arena.envs.validate import ActionError, IllegalActionError
from macflow_arena.policies import RandomPolicy, ScriptedPolicy
from macflow_arena.resources import ENV_VAR
from macflow_arena.spec import SpecError

MAPS = ["2s3z", "3m", "3s5z", "3s_vs_5z", "5m_vs_6m", "8m", "gen-10v10", "gen-5v5"]


def test_every_map_is_registered_and_units_toml_is_not():
    ids = macflow_arena.list_envs()
    assert {f"skirmish/{m}-v0" for m in MAPS} <= set(ids)
    assert not any("units" in i for i in ids)


@pytest.mark.parametrize("name", ["3m", "gen-5v5"])
def test_spaces_layout_and_state(name):
    env = macflow_arena.make(f"skirmish/{name}")
    obs, infos = env.reset(seed=0)
    assert env.agents == env.possible_agents == [f"ally_{i}" for i in range(env.task.n_allies)]
    for a in env.agents:
        space = env.observation_space(a)
        assert isinstance(space, spaces.Dict) and set(space.spaces) == {"observation", "action_mask"}
        assert space["observation"].dtype == np.float32 and space["action_mask"].dtype == np.int8
        assert space["observation"].shape == (len(env.layout.feature_names()),)
        assert env.action_space(a) == spaces.Discrete(env.actions.n) and len(env.actions.names()) == env.actions.n
        assert space.contains(obs[a])
        assert infos[a]["action_mask"] is obs[a]["action_mask"] or (infos[a]["action_mask"] == obs[a]["action_mask"]).all()
        assert infos[a]["battle_won"] is False and infos[a]["illegal_actions"] == 0
    st = env.state()
    assert env.state_space.contains(st) and st.shape == env.state_space.shape


def test_random_play_stays_in_spaces():
    rng = np.random.default_rng(0)
    for name in ("2s3z", "gen-5v5"):
        env = macflow_arena.make(f"skirmish/{name}")
        obs, infos = env.reset(seed=1)
        for _ in range(600):
            if not env.agents:
                obs, infos = env.reset()
            acts = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
            obs, rew, term, trunc, infos = env.step(acts)
            for a in obs:
                assert env.observation_space(a).contains(obs[a]), a
                assert np.isfinite(rew[a]) and rew[a] >= 0
            assert env.state_space.contains(env.state())


# -- illegal actions -----------------------------------------------------------------


def test_masked_action_raises_clearly_and_changes_nothing():
    env = macflow_arena.make("skirmish/3m", illegal_action="raise")
    obs, _ = env.reset(seed=0)
    state, agents = env.state().copy(), list(env.agents)
    with pytest.raises(IllegalActionError) as info:
        env.step({"ally_0": ATTACK0 + 2, "ally_1": STOP, "ally_2": STOP})  # nobody in range at the start
    msg = str(info.value)
    assert "ally_0" in msg and "attack enemy_2" in msg and "legal actions: 1 (stop)" in msg and "noop" in msg
    assert (env.state() == state).all() and env.agents == agents and env.num_steps == 0
    with pytest.raises(IllegalActionError, match="no-op"):
        env.step({"ally_0": 0, "ally_1": STOP, "ally_2": STOP})
    env.step({"ally_0": EAST, "ally_1": STOP, "ally_2": STOP})


def test_masked_action_noop_option_replaces_and_counts():
    env = macflow_arena.make("skirmish/3m", illegal_action="noop", enemy_ai="idle")
    env.reset(seed=0)
    before = env.core.pos[0].copy()
    obs, rew, term, trunc, info = env.step({"ally_0": ATTACK0 + 2, "ally_1": 0, "ally_2": EAST})
    assert info["ally_0"]["illegal_actions"] == 1 and info["ally_1"]["illegal_actions"] == 1
    assert info["ally_2"]["illegal_actions"] == 0
    assert (env.core.pos[0, :2] == before[:2]).all() and env.core.pos[0, 2, 0] > before[2, 0]
    assert (env.core.hp[0] == env.core.max_hp[0]).all()
    env.step({"ally_0": ATTACK0 + 2, "ally_1": STOP, "ally_2": STOP})
    assert env.step({a: STOP for a in env.agents})[4]["ally_0"]["illegal_actions"] == 2
    env.reset()
    assert env.step({a: STOP for a in env.agents})[4]["ally_0"]["illegal_actions"] == 0
    venv = macflow_arena.make_vec("skirmish/3m", 2, illegal_action="noop")
    venv.reset(seed=0)
    _, _, _, _, vinfo = venv.step(np.array([[ATTACK0, STOP, STOP], [STOP, STOP, STOP]]))
    assert vinfo["illegal_actions"].tolist() == [[1, 0, 0], [0, 0, 0]]


def test_vector_env_rejects_bad_batches():
    venv = macflow_arena.make_vec("skirmish/3m", 3, illegal_action="raise")
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.ones(venv.action_shape, dtype=np.int64))
    venv.reset(seed=0)
    state = venv.state().copy()
    for bad in (np.ones((3, 2), dtype=np.int64), np.full((3, 3), 9), np.full((3, 3), -1),
                np.ones((3, 3), dtype=float), np.ones((3, 3), dtype=bool)):
        with pytest.raises(ActionError):
            venv.step(bad)
    with pytest.raises(IllegalActionError, match="battle 1: ally_2"):
        venv.step(np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1]]) + np.array([[0, 0, 0], [0, 0, 5], [0, 0, 0]]))
    np.testing.assert_array_equal(state, venv.state())


# -- the VectorEnv ----------------------------------------------------------------------


def test_vector_env_batch_replays_parallel_envs_and_autoresets():
    b, seed = 3, 40
    venv = macflow_arena.make_vec("skirmish/gen-5v5", b)
    envs = [macflow_arena.make("skirmish/gen-5v5") for _ in range(b)]
    vobs, vinfo = venv.reset(seed=seed)
    for i, e in enumerate(envs):
        e.reset(seed=seed + i)
    pol = ScriptedPolicy(venv, seed=0)
    assert set(vobs) == {"observation", "action_mask"} and vobs["observation"].dtype == np.float32
    finished = 0
    for _ in range(250):
        act = pol.act_batch(vobs)
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(act)
        for i, e in enumerate(envs):
            acts = {a: int(act[i, k]) for k, a in enumerate(e.possible_agents) if a in e.agents}
            po, pr, pt, ptr, pi = e.step(acts)
            src = vinfo["final_obs"] if vinfo["done"][i] else vobs
            for k, a in enumerate(e.possible_agents):
                if a in po:
                    np.testing.assert_array_equal(src["observation"][i, k], po[a]["observation"])
                    np.testing.assert_array_equal(src["action_mask"][i, k], po[a]["action_mask"])
                    assert vrew[i, k] == np.float32(pr[a]) and vterm[i, k] == pt[a] and vtrunc[i, k] == ptr[a]
                else:
                    assert vrew[i, k] == 0 and not vterm[i, k] and not vtrunc[i, k]
            for a_info in pi.values():
                assert vinfo["metrics"]["battle_won"][i] == a_info["battle_won"]
            assert bool(vinfo["done"][i]) == (not e.agents)
            if not e.agents:
                finished += 1
                e.reset()
            np.testing.assert_array_equal(venv.state()[i], e.state())
    assert finished >= b


# -- enemy AI ------------------------------------------------------------------------------


def _duel(ai, difficulty=7):
    env = macflow_arena.make("skirmish/3m", enemy_ai=ai, difficulty=difficulty)
    # enemy_0 has ally_0 (hurt) and ally_1 (closer, healthy) in range; enemy_1, 2 far away
    env.reset_to(pos=[[10, 10], [12, 13], [2, 30], [15, 14], [30, 30], [30, 2]], hp=[45, 20, 45, 45, 45, 45], seed=0)
    env.step({a: STOP for a in env.agents})
    return env.core


def test_enemy_ai_nearest_focus_and_idle():
    assert _duel("nearest").target[0, 3] == 1  # ally_1 is nearest... (distance 3.2 vs 6.4)
    core = _duel("focus")
    assert core.target[0, 3] == 1  # ... and also the weakest
    env = macflow_arena.make("skirmish/3m", enemy_ai="focus")
    env.reset_to(pos=[[10, 10], [14, 10], [2, 30], [15, 10], [30, 30], [30, 2]], hp=[12, 45, 45, 45, 45, 45], seed=0)
    env.step({a: STOP for a in env.agents})
    assert env.core.target[0, 3] == 0  # focus: the weakest in range, not the nearest
    env = macflow_arena.make("skirmish/3m", enemy_ai="nearest")
    env.reset_to(pos=[[10, 10], [14, 10], [2, 30], [15, 10], [30, 30], [30, 2]], hp=[12, 45, 45, 45, 45, 45], seed=0)
    env.step({a: STOP for a in env.agents})
    assert env.core.target[0, 3] == 1
    assert (_duel("idle").target[0] == -1).all()


def test_enemies_advance_until_in_range():
    env = macflow_arena.make("skirmish/3m", allies=["marine"], enemies=["marine"])
    env.reset_to(pos=[[5, 16], [27, 16]], seed=0)
    xs = []
    while env.agents and env.core.target[0, 1] < 0:
        env.step({"ally_0": STOP})
        xs.append(env.core.pos[0, 1, 0])
    assert all(b < a for a, b in zip(xs, xs[1:-1]))  # it walked west every step until it could shoot
    m = macflow_arena.make("skirmish/3m").task.units.types["marine"]
    assert env.core.pos[0, 1, 0] - 5 <= m.range + 2 * m.radius


def test_difficulty_hesitation_is_deterministic_noise():
    key = np.array([1, 2, 3], dtype=np.uint64)
    u = hash_uniform(key, np.array([0, 5, 9]), 1000)
    assert u.shape == (3, 1000) and (u >= 0).all() and (u < 1).all()
    assert abs(u.mean() - 0.5) < 0.03 and np.array_equal(u, hash_uniform(key, np.array([0, 5, 9]), 1000))
    assert not np.array_equal(u[:, :5], hash_uniform(key, np.array([1, 5, 9]), 5))
    moved = {}
    for d in (1, 7):
        env = macflow_arena.make("skirmish/3m", allies=["marine"], enemies=["marine"] * 3, difficulty=d)
        env.reset_to(pos=[[5, 16], [27, 15], [27, 16], [27, 17]], seed=0)
        start = env.core.pos[0, 1:].copy()
        for _ in range(4):
            env.step({"ally_0": STOP})
        moved[d] = np.linalg.norm(env.core.pos[0, 1:] - start, axis=1).sum()
    assert moved[1] < moved[7]


# -- procedural maps ----------------------------------------------------------------------


def test_procedural_draws():
    env = macflow_arena.make("skirmish/gen-5v5")
    task, names = env.task, env.task.units.names
    comps, sides = set(), set()
    for seed in range(40):
        env.reset(seed=seed)
        types = env.core.types[0]
        allies, enemies = types[:5], types[5:]
        assert (allies == enemies).all()  # mirrored teams
        assert not task.units.is_healer[allies].all()
        assert set(names[t] for t in types) <= {"marine", "marauder", "medivac"}
        comps.add(tuple(allies))
        pos = env.core.pos[0]
        assert ((pos >= 3.0) & (pos <= 29.0)).all()
        west = pos[:5, 0].mean() < pos[5:, 0].mean()
        sides.add(west)
        assert np.abs(pos[:5, 0].mean() - pos[5:, 0].mean()) > 12
    assert len(comps) > 10 and sides == {True, False}
    env.reset(seed=3)
    a = env.state().copy()
    env.reset(seed=3)
    assert (env.state() == a).all()


def test_surrounded_start():
    env = macflow_arena.make("skirmish/gen-5v5", start="surrounded")
    env.reset(seed=0)
    pos = env.core.pos[0]
    d = np.linalg.norm(pos - 16.0, axis=1)
    assert (d[:5] < 5).all() and (d[5:] > 11).all()


# -- policies -----------------------------------------------------------------------------


def test_scripted_policy_dispatch_and_legality():
    from macflow_arena.envs.skirmish.scripted import SkirmishScriptedPolicy

    env = macflow_arena.make("skirmish/gen-5v5")
    pol = ScriptedPolicy(env, seed=0, epsilon=0.3)
    assert isinstance(pol, SkirmishScriptedPolicy) and isinstance(pol, ScriptedPolicy) and pol.name == "scripted"
    particle = ScriptedPolicy(macflow_arena.make("particle/spread"))
    assert type(particle) is ScriptedPolicy
    with pytest.raises(ValueError, match="epsilon"):
        ScriptedPolicy(env, noise=0.1)
    rand = RandomPolicy(env, seed=0)
    for policy in (pol, rand):
        obs, _ = env.reset(seed=1)
        policy.reset(seed=1)
        while env.agents:
            seats = {a: obs[a] for a in env.agents if a != "ally_0"}  # a human may hold ally_0
            acts = policy.act(seats)
            assert set(acts) == set(seats)
            for a, v in acts.items():
                assert obs[a]["action_mask"][v] == 1, (a, v)
            if "ally_0" in env.agents:
                acts["ally_0"] = STOP
            obs, *_ = env.step(acts)
    venv = macflow_arena.make_vec("skirmish/3m", 4)
    vobs, _ = venv.reset(seed=0)
    act = RandomPolicy(venv, seed=0).act_batch(vobs, None, venv.action_space, venv.n_agents)
    assert np.take_along_axis(vobs["action_mask"], act[..., None], -1).all()


# -- scenario errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"allies": ["marine", "goliath"]}, "unknown unit type 'goliath'; known types: marine, marauder"),
        ({"allies": ["medivac"]}, "all healers"),
        ({"difficulty": 9}, "difficulty must be an integer in 1..7"),
        ({"enemy_ai": "smart"}, "enemy_ai must be one of nearest, focus, idle"),
        ({"illegal_action": "ignore"}, "illegal_action must be one of raise, noop"),
        ({"layout": ["..x", "..."]}, "only '#' (wall) and '.'"),
        ({"layout": ["...", ".."]}, "same non-zero length"),
        ({"layout": ["....", "...."]}, "layout cells must be square"),
        ({"layout": ["##", ".."], "ally_spawn": [9, 24]}, "touches a wall"),
        ({"ally_spawn": [40, 16]}, "leaves the map"),
        ({"max_cycles": 0}, "max_cycles must be >= 1"),
        ({"bogus": 1}, "valid keys are"),
        ({"units_file": "nope.toml"}, "units_file 'nope.toml' not found"),
    ],
)
def test_bad_scenario_values(overrides, match):
    with pytest.raises(SpecError, match=match.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        macflow_arena.make("skirmish/3m", **overrides)


def test_procedural_scenario_errors():
    with pytest.raises(SpecError, match="unit_types with weight > 0 are all healers"):
        macflow_arena.make("skirmish/gen-5v5", unit_types=["medivac", "marine"], unit_weights=[1.0, 0.0])
    with pytest.raises(SpecError, match="same length"):
        macflow_arena.make("skirmish/gen-5v5", unit_weights=[1.0])
    with pytest.raises(SpecError, match="start must be one of"):
        macflow_arena.make("skirmish/gen-5v5", start="corner")


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    (tmp_path / "envs" / "skirmish").mkdir(parents=True)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    registry._scan.cache_clear()
    yield tmp_path / "envs" / "skirmish"
    monkeypatch.delenv(ENV_VAR)
    registry._scan.cache_clear()


def test_unit_table_is_strict(data_root):
    from macflow_arena.resources import envs_dir

    real = (registry.Path(macflow_arena.__file__).parent.parent / "envs" / "skirmish" / "units.toml").read_text()
    (data_root / "units.toml").write_text(real)
    (data_root / "duel.toml").write_text('task = "battle"\nallies = ["marine"]\nenemies = ["zealot"]\n')
    assert envs_dir() == data_root.parent
    assert list(macflow_arena.list_envs()) == ["skirmish/duel-v0"]
    env = macflow_arena.make("skirmish/duel")
    assert env.task.n_units == 2
    (data_root / "units.toml").write_text(real.replace("sight = 9.0\n", "sight = 9.0\nsnipe = 1\n", 1))
    with pytest.raises(SpecError, match=r"unit 'marine'.*unknown key\(s\) snipe"):
        macflow_arena.make("skirmish/duel")
    (data_root / "units.toml").write_text(real.replace("hp = 45.0\n", "", 1))
    with pytest.raises(SpecError, match="unit 'marine' misses key"):
        macflow_arena.make("skirmish/duel")
    (data_root / "units.toml").write_text(real.replace('shape = "circle"', 'shape = "blob"', 1))
    with pytest.raises(SpecError, match="shape must be one of"):
        macflow_arena.make("skirmish/duel")
