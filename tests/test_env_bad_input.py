"""Bad input raises a clear error and leaves the env usable and unchanged.

Every rejected call is made on one env while a twin with the same seed gets
only the valid calls: after the rejection both take the same valid step and
must still agree bit for bit, so a bad call cannot have changed the state.
"""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

import macflow_arena
from macflow_arena import registry
from macflow_arena.envs.validate import ActionError, check_agent_keys
from macflow_arena.resources import ENV_VAR
from macflow_arena.spec import SpecError
from _env_helpers import ENV_IDS, PARTICLE_IDS, action_mask, assert_same, sample_actions, snapshot

ERRORS = (ValueError, TypeError, KeyError, RuntimeError)


def _twins(env_id, seed=5, **overrides):
    a, b = macflow_arena.make(env_id, **overrides), macflow_arena.make(env_id, **overrides)
    ra, rb = a.reset(seed=seed), b.reset(seed=seed)
    assert_same(ra, rb)
    return a, b, ra


def _rejects(env, actions, match=None):
    """``env.step(actions)`` raises a clear error and changes nothing."""
    before = snapshot(env)
    with pytest.raises(ERRORS) as info:
        env.step(actions)
    msg = str(info.value)
    assert len(msg) > 10, f"unhelpful error message {msg!r}"
    if match:
        assert any(m in msg for m in ([match] if isinstance(match, str) else match)), msg
    assert_same(before, snapshot(env), "state after a rejected step")
    return msg


def _still_in_step(env, twin, obs, infos, rng):
    """A valid step after the rejections gives exactly what the untouched twin gives."""
    actions = sample_actions(env, obs, infos, rng)
    out, out_twin = env.step(actions), twin.step(actions)
    assert_same(out, out_twin, "first valid step after rejected calls")
    assert_same(snapshot(env), snapshot(twin))
    return out


def _bad_actions(space: spaces.Space, valid):
    """(label, action) pairs that must be rejected for ``space``."""
    out = [("string", "left"), ("None", None), ("bool", True), ("object", object())]
    if isinstance(space, spaces.Box):
        out += [
            ("above high", np.asarray(space.high, dtype=np.float64) + 0.5),
            ("below low", np.asarray(space.low, dtype=np.float64) - 0.5),
            ("huge", np.full(space.shape, 1e9)),
            ("NaN", np.full(space.shape, np.nan)),
            ("inf", np.full(space.shape, np.inf)),
            ("-inf in one entry", np.concatenate([[-np.inf], np.zeros(int(np.prod(space.shape)) - 1)]).reshape(space.shape)),
            ("bool array", np.zeros(space.shape, dtype=bool)),
            ("string array", np.full(space.shape, "a")),
            ("too long", np.zeros(int(np.prod(space.shape)) + 1)),
            ("too short", np.zeros(max(int(np.prod(space.shape)) - 1, 0))),
            ("extra dim", np.zeros((1,) + space.shape)),
            ("scalar", 0.0),
            ("ragged list", [[0.0], [0.0, 1.0]]),
            ("complex", np.zeros(space.shape, dtype=complex)),
        ]
    elif isinstance(space, spaces.Discrete):
        out += [
            ("n", space.start + space.n),
            ("negative", space.start - 1),
            ("float", 1.0),
            ("float array", np.float32(1.0)),
            ("NaN", float("nan")),
            ("inf", float("inf")),
            ("numpy bool", np.bool_(True)),
            ("vector", np.array([0, 1])),
            ("one-element vector", np.array([0])),
            ("huge int", 10**20),
            ("huge unsigned", np.uint64(2**63)),
            ("int64 max", np.iinfo(np.int64).max),
            ("string", "1"),
        ]
    return out


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_step_before_reset(env_id):
    env = macflow_arena.make(env_id)
    rng = np.random.default_rng(0)
    actions = {a: env.action_space(a).sample() for a in env.possible_agents}
    with pytest.raises(ERRORS, match="reset"):
        env.step(actions)
    obs, infos = env.reset(seed=0)
    env.step(sample_actions(env, obs, infos, rng))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_step_after_episode_end(env_id):
    env = macflow_arena.make(env_id, max_cycles=3) if env_id.startswith("particle/") else macflow_arena.make(env_id)
    rng = np.random.default_rng(0)
    obs, infos = env.reset(seed=0)
    for _ in range(100_000):
        if not env.agents:
            break
        obs, _, _, _, infos = env.step(sample_actions(env, obs, infos, rng))
    assert not env.agents
    last = {a: env.action_space(a).sample() for a in env.possible_agents}
    for actions in (last, {}):
        _rejects(env, actions, match="reset")
    obs, infos = env.reset(seed=1)
    env.step(sample_actions(env, obs, infos, rng))


# every env as registered, and the particle games in their discrete-move mode too
ACTION_CASES = [(e, {}) for e in ENV_IDS] + [(e, {"discrete_actions": True}) for e in PARTICLE_IDS]


@pytest.mark.parametrize("env_id,overrides", ACTION_CASES, ids=[f"{e}{'-discrete' if o else ''}" for e, o in ACTION_CASES])
def test_bad_actions_rejected_and_env_unchanged(env_id, overrides):
    env, twin, (obs, infos) = _twins(env_id, **overrides)
    rng = np.random.default_rng(3)
    for _ in range(2):  # reject in the first step and mid-episode
        valid = sample_actions(env, obs, infos, rng)
        agent = env.agents[0]
        for label, bad in _bad_actions(env.action_space(agent), valid[agent]):
            msg = _rejects(env, {**valid, agent: bad})
            assert agent in msg, f"{label}: the error should name the agent: {msg}"
        obs, *_, infos = _still_in_step(env, twin, obs, infos, rng)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_masked_action_rejected(env_id):
    # masked envs default to illegal_action="noop" (a counted stop; test_conformance.py); "raise" is the strict option
    strict = {"illegal_action": "raise"} if env_id.startswith("skirmish/") else {}
    env, twin, (obs, infos) = _twins(env_id, **strict)
    rng = np.random.default_rng(4)
    tried = 0
    for _ in range(200):
        if not env.agents:
            break
        valid = sample_actions(env, obs, infos, rng)
        for a in env.agents:
            mask = action_mask(obs.get(a), infos.get(a))
            if mask is not None and not mask.all():
                illegal = int(np.flatnonzero(mask == 0)[0]) + getattr(env.action_space(a), "start", 0)
                _rejects(env, {**valid, a: np.int64(illegal)}, match=("mask", "illegal", "not allowed", "legal"))
                tried += 1
        obs, *_, infos = _still_in_step(env, twin, obs, infos, rng)
        if tried >= 5:
            break
    if tried == 0:
        pytest.skip(f"{env_id} has no action masks")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_wrong_agent_keys(env_id):
    env, twin, (obs, infos) = _twins(env_id)
    rng = np.random.default_rng(5)
    valid = sample_actions(env, obs, infos, rng)
    first = env.agents[0]
    missing = {a: v for a, v in valid.items() if a != first}
    assert first in _rejects(env, missing, match="live")
    assert "ghost_7" in _rejects(env, {**valid, "ghost_7": valid[first]}, match="unknown")
    _rejects(env, list(valid.values()), match="dict")
    _rejects(env, None, match="dict")
    _still_in_step(env, twin, obs, infos, rng)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_action_for_dead_agent(env_id):
    """Needs an env where agents die mid-episode (skirmish); particle games end for all at once."""
    env, twin, (obs, infos) = _twins(env_id)
    rng = np.random.default_rng(6)
    episodes = 0
    while episodes < 3:
        if not env.agents:
            episodes += 1
            obs, infos = env.reset()
            assert_same((obs, infos), twin.reset())
            continue
        dead = [a for a in env.possible_agents if a not in env.agents]
        if dead:
            valid = sample_actions(env, obs, infos, rng)
            space = env.action_space(dead[0])
            msg = _rejects(env, {**valid, dead[0]: space.sample()}, match=dead[0])
            assert "live" in msg or "dead" in msg or "done" in msg, msg
            _still_in_step(env, twin, obs, infos, rng)
            return
        obs, *_, infos = _still_in_step(env, twin, obs, infos, rng)
    pytest.skip(f"{env_id}: no agent died mid-episode in 3 random episodes")


def test_dead_agent_message():
    with pytest.raises(ActionError, match=r"\['b'\] are no longer live"):
        check_agent_keys({"a": 0, "b": 0}, ["a"], ["a", "b"])


@pytest.mark.parametrize("env_id", [e for e in ENV_IDS if e.startswith("particle/")])
def test_vector_env_bad_actions(env_id):
    venv = macflow_arena.make_vec(env_id, 3)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.zeros(venv.action_shape))
    venv.reset(seed=0)
    twin = macflow_arena.make_vec(env_id, 3)
    twin.reset(seed=0)
    shape = venv.action_shape
    bad = [
        np.zeros(shape[:-1]),
        np.zeros(shape + (1,)),
        np.zeros((shape[0] + 1,) + shape[1:]),
        np.full(shape, np.nan),
        np.full(shape, np.inf),
        np.full(shape, 1.5),
        np.full(shape, -1.5),
        np.zeros(shape, dtype=bool),
        np.full(shape, "a"),
    ]
    for a in bad:
        before = venv.state().copy()
        with pytest.raises(ActionError):
            venv.step(a)
        np.testing.assert_array_equal(before, venv.state())
    good = np.random.default_rng(0).uniform(-1, 1, size=shape)
    assert_same(venv.step(good)[:4], twin.step(good)[:4])
    dv = macflow_arena.make_vec(env_id, 2, discrete_actions=True)
    dv.reset(seed=0)
    for a in (np.full(dv.action_shape, 5), np.full(dv.action_shape, -1), np.zeros(dv.action_shape, dtype=float),
              np.zeros(dv.action_shape, dtype=bool)):
        with pytest.raises(ActionError):
            dv.step(a)
    dv.step(np.zeros(dv.action_shape, dtype=np.int64))


# -- scenario keys and ids -------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_unknown_override_key(env_id):
    with pytest.raises(ValueError) as info:
        macflow_arena.make(env_id, bogus=1)
    assert "bogus" in str(info.value)
    assert "valid keys" in str(info.value)
    with pytest.raises(ValueError, match="bogus"):
        macflow_arena.make_vec(env_id, 2, bogus=1)


@pytest.mark.parametrize(
    "key,value,match",
    [("max_cycles", "many", "integer"), ("max_cycles", 0, "max_cycles"), ("bounded", 1, "true or false"),
     ("dt", float("nan"), "NaN"), ("damping", 1.0, "damping")],
)
def test_bad_override_values(key, value, match):
    with pytest.raises(SpecError, match=match):
        macflow_arena.make("particle/spread", **{key: value})


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data folder selected through $MACFLOW_ARENA_DATA, with a fresh registry scan."""
    (tmp_path / "envs" / "particle").mkdir(parents=True)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    registry._scan.cache_clear()
    yield tmp_path
    monkeypatch.delenv(ENV_VAR)
    registry._scan.cache_clear()


def test_unknown_key_in_scenario_file(data_root):
    path = data_root / "envs" / "particle" / "x.toml"
    path.write_text('task = "spread"\nversion = 2\nn_agents = 2\nbogus = 1\n')
    assert list(macflow_arena.list_envs()) == ["particle/x-v2"]
    with pytest.raises(SpecError) as info:
        macflow_arena.make("particle/x")
    msg = str(info.value)
    assert "bogus" in msg and "x.toml" in msg and "n_landmarks" in msg, msg
    path.write_text('task = "spread"\nversion = 2\nn_agents = 2\n')
    env = macflow_arena.make("particle/x")
    assert env.possible_agents == ["agent_0", "agent_1"]


def test_bad_scenario_files(data_root):
    path = data_root / "envs" / "particle" / "x.toml"

    def write(text):
        path.write_text(text)
        registry._scan.cache_clear()  # the registry caches each file's task name

    write('task = "spread"\nn_agents = "two"\n')
    with pytest.raises(SpecError, match="n_agents must be an integer"):
        macflow_arena.make("particle/x")
    write('task = "juggle"\n')
    with pytest.raises(SpecError, match="unknown particle task 'juggle'"):
        macflow_arena.make("particle/x")
    write('task = "spread"\nn_agents = 0\n')
    with pytest.raises(SpecError, match="n_agents must be >= 1"):
        macflow_arena.make("particle/x")
    write('task = "spread"\nversion = -1\n')
    with pytest.raises(SpecError, match="version must be a non-negative integer"):
        macflow_arena.list_envs()
    write("task = [unclosed\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        macflow_arena.list_envs()
    write('task = "spread"\ndataset_episodes = 0\n')
    with pytest.raises(SpecError, match="dataset_episodes must be a positive integer"):
        macflow_arena.list_envs()


def test_dataset_episodes_is_the_recording_default(data_root):
    """A scenario's ``dataset_episodes`` is what ``record`` records when --episodes is not given; it is
    not a task parameter (the env is built without it)."""
    path = data_root / "envs" / "particle" / "x.toml"
    path.write_text('task = "spread"\nn_agents = 2\ndataset_episodes = 7\n')
    assert registry.resolve("particle/x").dataset_episodes == 7
    assert macflow_arena.make("particle/x").possible_agents == ["agent_0", "agent_1"]
    from macflow_arena.cli import main

    out = data_root / "ds"
    assert main(["record", "particle/x", "--out", str(out), "--no-reference", "--quiet", "--num-envs", "4"]) == 0
    from macflow_arena.data.loader import Dataset

    assert Dataset(out).num_episodes == 7
    path.write_text('task = "spread"\nn_agents = 2\n')
    registry._scan.cache_clear()
    assert registry.resolve("particle/x").dataset_episodes == 1000


@pytest.mark.parametrize("bad_id", ["particle/sprad", "particle/spread-v9", "spread", "", "nope/nothing-v0"])
def test_unknown_env_id_lists_known_ids(bad_id):
    for make in (macflow_arena.make, lambda i: macflow_arena.make_vec(i, 2)):
        with pytest.raises(KeyError) as info:
            make(bad_id)
        msg = str(info.value)
        assert f"unknown env id {bad_id!r}" in msg
        for known in ENV_IDS:
            assert known in msg, f"{known} missing from: {msg}"


def test_unknown_env_id_suggests_close_match():
    with pytest.raises(KeyError, match="Did you mean particle/spread-v0"):
        macflow_arena.make("particle/sprad")


@pytest.mark.parametrize("env_id", PARTICLE_IDS)
def test_equivalent_action_forms_step_alike(env_id):
    """Valid actions given as float32/float64/int arrays, lists, tuples, or a hair outside the
    box (within the 1e-6 tolerance, clipped) step exactly like the plain float32 array."""
    ref_env = macflow_arena.make(env_id)
    ref_env.reset(seed=9)
    forms = [
        lambda x: x.astype(np.float64),
        lambda x: x.tolist(),
        lambda x: tuple(x.tolist()),
        lambda x: np.asarray(x, dtype=np.float32).copy(),
    ]
    envs = [macflow_arena.make(env_id) for _ in forms]
    for e in envs:
        e.reset(seed=9)
    rng = np.random.default_rng(9)
    for t in range(8):
        base = {a: rng.uniform(-1, 1, 2).astype(np.float32) for a in ref_env.agents}
        if t == 3:
            base = {a: np.array([1.0, -1.0], dtype=np.float32) for a in ref_env.agents}
        ref = ref_env.step(base)
        for f, e in zip(forms, envs):
            acts = {a: f(x) for a, x in base.items()}
            if t == 3:
                acts = {a: [1.0 + 5e-7, -1.0 - 5e-7] for a in base}
            assert_same(e.step(acts), ref, f"step {t}")
    ints = macflow_arena.make(env_id)
    ints.reset(seed=9)
    ref_env.reset(seed=9)
    one = {a: np.array([1, -1]) for a in ref_env.agents}
    assert_same(ints.step(one), ref_env.step({a: np.array([1.0, -1.0], dtype=np.float32) for a in one}))
