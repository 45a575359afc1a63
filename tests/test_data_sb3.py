"""A tiny SB3 PPO run (parameter sharing on the batched env) that saves, reloads and records with the model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("torch")


def test_train_save_reload_and_record(tmp_path, monkeypatch):
    import cloudpickle
    from stable_baselines3 import PPO

    import macflow_arena as ma
    from macflow_arena.data import Dataset, record_dataset
    from macflow_arena.data.sb3 import SB3Policy, SharedAgentVecEnv, load_ppo, train_ppo

    out = tmp_path / "ppo.zip"
    card = train_ppo("particle/spread", out, steps=1536, num_envs=4, n_steps=64, batch_size=256, n_epochs=1,
                     log=lambda s: None)
    assert out.is_file() and card["agent_steps"] >= 1536 and card["env_id"] == "particle/spread-v0"
    plain = PPO.load(out, device="cpu")  # a real SB3 model, through SB3's own API
    obs = SharedAgentVecEnv(ma.make_vec("particle/spread", 2)).reset()
    ref, _ = plain.predict(obs, deterministic=True)

    def no_unpickling(*a, **k):
        raise AssertionError("load_ppo must not unpickle anything")

    monkeypatch.setattr(cloudpickle, "loads", no_unpickling)
    model, _ = load_ppo(out)
    got, _ = model.predict(obs, deterministic=True)
    assert np.array_equal(got, ref)
    monkeypatch.undo()

    env = ma.make("particle/spread")
    pol = SB3Policy(env, out)
    o, _ = env.reset(seed=0)
    acts = pol.act(o)
    assert set(acts) == set(env.agents) and all(a.shape == (2,) and np.abs(a).max() <= 1 for a in acts.values())
    env.step(acts)

    record_dataset("particle/spread", tmp_path / "ds", behaviour={"name": "sb3", "model": str(out)},
                   quality="mixed", episodes=4, num_envs=4)
    ds = Dataset(tmp_path / "ds")
    assert ds.header["behaviour"]["name"] == "sb3" and ds.load().fields["policy"][0, 0] == "sb3:ppo"
    with pytest.raises(ValueError, match="trained on particle/spread-v0"):
        load_ppo(out, ma.make_vec("particle/tag", 1))


def test_time_budget_anneals_and_stops(tmp_path):
    """The wall-time budget stops training, counts as schedule progress, and the zip stays a plain PPO model."""
    from stable_baselines3 import PPO

    from macflow_arena.data.sb3 import _BudgetPPO, train_ppo

    card = train_ppo("particle/spread", tmp_path / "b.zip", steps=10**9, num_envs=2, n_steps=8, batch_size=48,
                     n_epochs=1, net_arch=(8,), eval_every=48, eval_episodes=2, max_seconds=0.5,
                     log=lambda s: None)
    assert card["stopped_by_budget"] and 0 < card["agent_steps"] < 10**9
    assert card["learning_curve"] and card["learning_curve"][-1][0] == card["agent_steps"]
    model = PPO.load(tmp_path / "b.zip", device="cpu")
    assert type(model) is PPO and not hasattr(model, "_budget_seconds")
    m = _BudgetPPO.__new__(_BudgetPPO)
    m._budget_seconds, m._budget_t0 = 10.0, __import__("time").perf_counter() - 5.0
    m._update_current_progress_remaining(1, 100)
    assert 0.45 < m._current_progress_remaining < 0.5
