"""Same seed, same rollout: whole episodes, across resets, and VectorEnv == ParallelEnv."""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena
from _env_helpers import ENV_IDS, assert_same, sample_actions

MIN_STEPS = 500
MAX_STEPS = 20_000  # give up (and fail) if no episode ends within this many steps


def _state(env):
    return env.state() if hasattr(env, "state") else None


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_rollout(env_id):
    """Two envs seeded alike agree on everything for >= 500 steps and >= 1 full episode."""
    e1, e2 = macflow_arena.make(env_id), macflow_arena.make(env_id)
    r1, r2 = e1.reset(seed=1234), e2.reset(seed=1234)
    assert_same(r1, r2, "reset")
    assert_same(_state(e1), _state(e2), "state after reset")
    obs, infos = r1
    rng = np.random.default_rng(7)
    steps = episodes = 0
    while steps < MIN_STEPS or episodes < 1:
        assert steps < MAX_STEPS, f"{env_id}: no episode ended within {MAX_STEPS} steps"
        actions = sample_actions(e1, obs, infos, rng)
        out1, out2 = e1.step(actions), e2.step(actions)
        steps += 1
        assert_same(out1, out2, f"step {steps}")
        assert_same(list(e1.agents), list(e2.agents), f"agents at step {steps}")
        assert_same(_state(e1), _state(e2), f"state at step {steps}")
        obs, infos = out1[0], out1[4]
        if not e1.agents:
            episodes += 1
            r1, r2 = e1.reset(), e2.reset()  # no seed: both continue their own generators
            assert_same(r1, r2, f"reset after episode {episodes}")
            assert_same(_state(e1), _state(e2), f"state after reset {episodes}")
            obs, infos = r1
    assert steps >= MIN_STEPS and episodes >= 1
    print(f"{env_id}: compared {steps} steps over {episodes} finished episodes")
    e1.close()
    e2.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seed_matters(env_id):
    """Different seeds give different starts; reseeding with the same seed repeats the start."""
    env = macflow_arena.make(env_id)
    a, _ = env.reset(seed=1)
    s_a = _state(env)
    env.reset(seed=2)
    s_b = _state(env)
    c, _ = env.reset(seed=1)
    assert_same(a, c)
    assert_same(s_a, _state(env))
    assert not np.array_equal(s_a, s_b)


def _vec_row(vobs, b: int, i: int):
    """World b, agent i of a VectorEnv observation (an array [B, N, D] or a dict of them)."""
    if isinstance(vobs, dict):
        return {k: v[b, i] for k, v in vobs.items()}
    return vobs[b, i]


def _same_obs(vrow, pobs, where: str) -> None:
    """A VectorEnv row equals the ParallelEnv observation; padding past its length is zero."""
    if isinstance(pobs, dict):
        assert isinstance(vrow, dict) and set(pobs) <= set(vrow), where
        for k in pobs:
            _same_obs(vrow[k], pobs[k], f"{where}[{k}]")
        return
    d = pobs.shape[0]
    np.testing.assert_array_equal(vrow[:d], pobs, err_msg=where)
    assert vrow.dtype == pobs.dtype, where
    assert not vrow[d:].any(), f"{where}: padding past the agent's obs dim must be zero"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_matches_parallel(env_id):
    """World b of make_vec(id, B).reset(seed=s) replays make(id).reset(seed=s+b) bit for bit,
    step for step with the same actions, through the same-step auto-reset."""
    B, seed = 4, 321
    venv = macflow_arena.make_vec(env_id, B)
    envs = [macflow_arena.make(env_id) for _ in range(B)]
    vobs, vinfo = venv.reset(seed=seed)
    pres = [e.reset(seed=seed + b) for b, e in enumerate(envs)]
    agents = list(envs[0].possible_agents)
    assert list(venv.agents) == agents

    def compare_obs(vo, b, pobs, where):
        for i, a in enumerate(agents):
            if a in pobs:
                _same_obs(_vec_row(vo, b, i), pobs[a], f"{where} {a}")

    def compare_metrics(metrics, b, pinfo, where):
        for a in pinfo:
            for k, v in metrics.items():
                if k in pinfo[a]:
                    assert pinfo[a][k] == v[b].item(), f"{where}: metric {k}"

    for b, (po, pi) in enumerate(pres):
        compare_obs(vobs, b, po, f"reset world {b}")
        compare_metrics(vinfo["metrics"], b, pi, f"reset world {b}")
        np.testing.assert_array_equal(venv.state()[b], envs[b].state())

    rng = np.random.default_rng(0)
    n_steps = venv.max_cycles + 3  # every world auto-resets at least once
    compared = resets = 0
    pobs = [po for po, _ in pres]
    pinfos = [pi for _, pi in pres]
    for t in range(1, n_steps + 1):
        per_world = [sample_actions(e, pobs[b], pinfos[b], rng) for b, e in enumerate(envs)]
        # agents that are done (not in the dict) take 0, the no-op
        batch = np.zeros(venv.action_shape, dtype=np.int64 if venv.discrete else np.float32)
        for b, acts in enumerate(per_world):
            for i, a in enumerate(agents):
                if a in acts:
                    batch[b, i] = acts[a]
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(batch)
        vstate = venv.state()
        for b, e in enumerate(envs):
            where = f"world {b} step {t}"
            po, pr, pterm, ptrunc, pinfo = e.step(per_world[b])
            done_b = not e.agents
            assert bool(vinfo["done"][b]) == done_b, where
            compare_obs(vinfo["final_obs"] if done_b else vobs, b, po, where)
            for i, a in enumerate(agents):
                if a in pr:
                    # The VectorEnv returns float32 rewards; the ParallelEnv Python floats.
                    assert vrew[b, i] == np.float32(pr[a]), where
                    assert bool(vterm[b, i]) == pterm[a] and bool(vtrunc[b, i]) == ptrunc[a], where
            compare_metrics(vinfo["metrics"], b, pinfo, where)
            if done_b:
                po, pinfo = e.reset()  # continues its generator, like the auto-reset
                resets += 1
                compare_obs(vobs, b, po, where + " (after auto-reset)")
            np.testing.assert_array_equal(vstate[b], e.state(), err_msg=where)
            pobs[b], pinfos[b] = po, pinfo
            compared += 1
    assert compared == B * n_steps
    assert resets >= B, f"expected every world to auto-reset, got {resets} resets"
    venv.close()
