"""macflow-arena: cooperative multi-agent games, offline datasets, MAC-Flow training.

Importing this package has no side effects: pygame, torch and the scenario
files are loaded only when used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "make", "make_vec", "list_envs"]


def make(env_id: str, render_mode: str | None = None, **overrides):
    """Create a PettingZoo ParallelEnv, e.g. ``make("particle/spread", render_mode="rgb_array")``."""
    from .registry import make as _make

    return _make(env_id, render_mode=render_mode, **overrides)


def make_vec(env_id: str, num_envs: int, **overrides):
    """Create a batched VectorEnv of ``num_envs`` worlds (arrays shaped [B, N, ...])."""
    from .registry import make_vec as _make_vec

    return _make_vec(env_id, num_envs=num_envs, **overrides)


def list_envs() -> dict[str, str]:
    """Registered env ids and their one-line descriptions."""
    from .registry import registered

    return {k: e.description for k, e in registered().items()}
