"""Action checks shared by the PettingZoo adapters: clear errors, no state change."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces


class ActionError(ValueError):
    """An action dict does not fit the live agents or their action spaces."""


def check_agent_keys(actions: Any, agents: Sequence[str], possible: Sequence[str]) -> None:
    if not isinstance(actions, Mapping):
        raise ActionError(f"step() takes a dict {{agent: action}}, got {type(actions).__name__}")
    missing = [a for a in agents if a not in actions]
    if missing:
        raise ActionError(f"no action for live agent(s) {missing}; live agents: {list(agents)}")
    extra = [a for a in actions if a not in agents]
    if extra:
        dead = [a for a in extra if a in possible]
        unknown = [a for a in extra if a not in possible]
        parts = []
        if dead:
            parts.append(f"agent(s) {dead} are no longer live (done)")
        if unknown:
            parts.append(f"unknown agent(s) {unknown}; agents are {list(possible)}")
        raise ActionError("; ".join(parts))


def check_action(agent: str, action: Any, space: spaces.Space) -> np.ndarray:
    """Return ``action`` as an array valid for ``space`` or raise ``ActionError``."""
    if isinstance(space, spaces.Discrete):
        if isinstance(action, (bool, np.bool_)):
            raise ActionError(f"{agent}: action must be an integer in [0, {space.n}), got bool {action!r}")
        arr = np.asarray(action)
        if arr.shape != () or arr.dtype.kind not in "iu":
            raise ActionError(
                f"{agent}: action must be an integer scalar in [0, {space.n}), got {action!r} "
                f"(dtype {arr.dtype}, shape {arr.shape})"
            )
        if not space.start <= int(arr) < space.start + space.n:
            raise ActionError(f"{agent}: action {int(arr)} is outside [0, {space.n})")
        return arr.astype(np.int64)
    if isinstance(space, spaces.Box):
        try:
            arr = np.asarray(action)
        except Exception as e:  # ragged lists and the like
            raise ActionError(f"{agent}: action is not an array: {e}") from None
        if arr.dtype.kind not in "fiu":
            raise ActionError(f"{agent}: action must be numeric, got dtype {arr.dtype}")
        if arr.shape != space.shape:
            raise ActionError(f"{agent}: action shape {arr.shape} != expected {space.shape}")
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ActionError(f"{agent}: action contains NaN or inf: {arr.tolist()}")
        if (arr < space.low - 1e-6).any() or (arr > space.high + 1e-6).any():
            raise ActionError(
                f"{agent}: action {arr.tolist()} is outside the box [{space.low.tolist()}, {space.high.tolist()}]"
            )
        return np.clip(arr, space.low, space.high)
    raise ActionError(f"{agent}: unsupported action space {space}")  # pragma: no cover


def check_batch(actions: Any, shape: tuple, discrete: bool, n_actions: int = 0) -> np.ndarray:
    """Validate a batched action array for a VectorEnv."""
    arr = np.asarray(actions)
    if arr.shape != shape:
        raise ActionError(f"actions must have shape {shape}, got {arr.shape}")
    if discrete:
        if arr.dtype.kind not in "iu":
            raise ActionError(f"discrete actions must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= n_actions):
            raise ActionError(f"discrete actions must be in [0, {n_actions})")
        return arr
    if arr.dtype.kind not in "fiu":
        raise ActionError(f"actions must be numeric, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ActionError("actions contain NaN or inf")
    if arr.size and (arr.min() < -1 - 1e-6 or arr.max() > 1 + 1e-6):
        raise ActionError("continuous actions must lie in [-1, 1]")
    return np.clip(arr, -1.0, 1.0)


class IllegalActionError(ActionError):
    """An action that the agent's action mask forbids right now."""


def illegal_action_message(agent: str, action: int, mask: np.ndarray, name=None) -> str:
    """``agent``'s ``action`` is masked: say which one and list the legal ones (named by ``name(a)``)."""
    legal = [int(a) for a in np.flatnonzero(mask)]
    label = (lambda a: f"{a} ({name(a)})") if name is not None else str
    return (
        f"{agent}: action {label(int(action))} is illegal now (masked by action_mask); "
        f"legal actions: {', '.join(label(a) for a in legal) or 'none'}. "
        f"Pick from obs[agent]['action_mask'], or make the env with illegal_action='noop' "
        f"to replace masked actions by a no-op and count them."
    )


def masked_violations(actions: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Boolean [..] array: where the integer ``actions`` [..] are 0 in ``masks`` [.., n]."""
    picked = np.take_along_axis(masks, actions[..., None].astype(np.intp), axis=-1)[..., 0]
    return picked == 0
