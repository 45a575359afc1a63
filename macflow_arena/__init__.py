"""macflow-arena: cooperative multi-agent games, offline datasets, MAC-Flow training.

Importing this package has no side effects: pygame, torch and the scenario
files are loaded only when used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "make", "make_vec", "list_envs"]


def _user_error(e: Exception) -> Exception:
    """The same error without the package's internal frames: the traceback ends at ``make``
    and its last line is the whole message (unknown key, bad value, unknown id)."""
    e.__traceback__ = None
    e.__cause__, e.__suppress_context__ = None, True
    return e


def make(env_id: str, render_mode: str | None = None, **overrides):
    """Create a PettingZoo ParallelEnv, e.g. ``make("particle/spread", render_mode="rgb_array")``.

    Unknown env ids and unknown or invalid scenario keys raise ``UnknownEnvError`` /
    ``SpecError`` (both ``ValueError``) with the valid choices in the message."""
    from .registry import UnknownEnvError, make as _make
    from .spec import SpecError

    try:
        return _make(env_id, render_mode=render_mode, **overrides)
    except (SpecError, UnknownEnvError) as e:
        raise _user_error(e) from None


def make_vec(env_id: str, num_envs: int, **overrides):
    """Create a batched VectorEnv of ``num_envs`` worlds (arrays shaped [B, N, ...]); errors as ``make``."""
    from .registry import UnknownEnvError, make_vec as _make_vec
    from .spec import SpecError

    try:
        return _make_vec(env_id, num_envs=num_envs, **overrides)
    except (SpecError, UnknownEnvError) as e:
        raise _user_error(e) from None


def list_envs() -> dict[str, str]:
    """Registered env ids and their one-line descriptions."""
    from .registry import registered

    return {k: e.description for k, e in registered().items()}
