"""PettingZoo's own conformance tests over every registered env id, with default settings.

Warnings are errors (pyproject's ``filterwarnings``); the PettingZoo warnings
we allow are listed there with the reason. Masked envs (skirmish) default to
``illegal_action = "noop"``: PettingZoo's ``parallel_seed_test`` and
``max_cycles_test`` sample actions without masks, and a masked action becomes
a stop counted in ``info[agent]["illegal_actions"]`` instead of an error.
"""

from __future__ import annotations

import types

import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
)
from pettingzoo.utils.conversions import parallel_to_aec

import macflow_arena
from _env_helpers import ENV_IDS


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_parallel_api(env_id):
    env = macflow_arena.make(env_id)
    parallel_api_test(env, num_cycles=1000)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_aec_api(env_id):
    env = parallel_to_aec(macflow_arena.make(env_id))
    api_test(env, num_cycles=1000)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_parallel_seed(env_id):
    # PettingZoo 1.27 compares only the first step here (it stops on
    # ``any(terminations)`` of a non-empty dict); test_env_determinism.py
    # compares whole episodes.
    parallel_seed_test(lambda: macflow_arena.make(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_aec_seed(env_id):
    seed_test(lambda: parallel_to_aec(macflow_arena.make(env_id)), num_cycles=200)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_max_cycles(env_id):
    # max_cycles_test wants a module with parallel_env(max_cycles=) and env(max_cycles=)
    mod = types.SimpleNamespace(
        parallel_env=lambda **kw: macflow_arena.make(env_id, **kw),
        env=lambda **kw: parallel_to_aec(macflow_arena.make(env_id, **kw)),
    )
    max_cycles_test(mod)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render(env_id):
    # render_test drives an AEC env through every mode in metadata["render_modes"]
    # ("human" opens a window on SDL's dummy video driver).
    def env_fn(render_mode=None):
        return parallel_to_aec(macflow_arena.make(env_id, render_mode=render_mode))

    render_test(env_fn)


class _FastClock:
    """performance_benchmark runs for 5 wall-clock seconds per env; this clock advances
    0.05 s per reading, so it runs its full loop in 100 cycles (past the end of an episode)."""

    def __init__(self):
        self.t = 0.0

    def time(self):
        self.t += 0.05
        return self.t


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_performance_benchmark_runs(env_id, monkeypatch, capsys):
    import sys

    pb = sys.modules["pettingzoo.test.performance_benchmark"]  # the package re-exports the function under this name
    monkeypatch.setattr(pb, "time", _FastClock())
    env = parallel_to_aec(macflow_arena.make(env_id))
    performance_benchmark(env)
    assert "Finished performance benchmark" in capsys.readouterr().out
    env.close()
