"""PettingZoo's own conformance tests over every registered env id.

Warnings are errors (pyproject's ``filterwarnings``); the two PettingZoo
warnings we allow are listed there with the reason.
"""

from __future__ import annotations

import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, render_test
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


def _mask_tolerant(env_id):
    """An env constructor for PettingZoo's seed test, which samples actions ignoring masks:
    envs with an ``illegal_action`` option get ``"noop"`` (masked actions become a counted
    no-op) instead of raising. Envs without the option are made as they are."""
    try:
        macflow_arena.make(env_id, illegal_action="noop").close()
    except ValueError:  # SpecError: the env has no such key
        return lambda: macflow_arena.make(env_id)
    return lambda: macflow_arena.make(env_id, illegal_action="noop")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_parallel_seed(env_id):
    # PettingZoo 1.27 compares only the first step here (it stops on
    # ``any(terminations)`` of a non-empty dict); test_env_determinism.py
    # compares whole episodes.
    parallel_seed_test(_mask_tolerant(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render(env_id):
    # render_test drives an AEC env through every mode in metadata["render_modes"]
    # ("human" opens a window on SDL's dummy video driver).
    def env_fn(render_mode=None):
        return parallel_to_aec(macflow_arena.make(env_id, render_mode=render_mode))

    render_test(env_fn)
