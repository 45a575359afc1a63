"""Episode blocks: what recorders hand to the writer, and how shards lay them out.

A block holds ``n`` episodes of the same length ``T``: observation-aligned
fields ``[n, T + 1, N, ...]``, step-aligned fields ``[n, T, N, ...]`` and
per-episode fields ``[n, ...]``. A shard concatenates its episodes along time:
``obs`` has ``sum(T_e + 1)`` rows, ``action`` ``sum(T_e)`` rows, and
``steps[e]`` says where each episode starts.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from .schema import EPISODE_FIELDS, STEP_FIELDS


def field_align(name: str) -> str:
    """"episode", "step" or "obs": which rows a field has."""
    if name in EPISODE_FIELDS:
        return "episode"
    if name in STEP_FIELDS or name.startswith("info."):
        return "step"
    return "obs"


@dataclass
class EpisodeBlock:
    steps: int
    data: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.data["seed"].shape[0])

    def take(self, start: int, stop: int) -> "EpisodeBlock":
        return EpisodeBlock(self.steps, {k: v[start:stop] for k, v in self.data.items()})


def episode_returns(reward: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Episode return: sum over steps of the mean reward of the agents alive at that step.

    ``reward``/``alive`` are ``[..., T, N]``; returns ``[...]`` (float64).
    """
    r = np.where(alive, reward, 0.0).astype(np.float64)
    count = np.maximum(alive.sum(-1), 1)
    return (r.sum(-1) / count).sum(-1)


def concat_blocks(blocks: list[EpisodeBlock]) -> dict[str, np.ndarray]:
    """The arrays of one shard: blocks concatenated along time (see module doc)."""
    names = list(blocks[0].data)
    for b in blocks[1:]:
        if set(b.data) != set(names):
            raise ValueError(f"episode blocks carry different fields: {sorted(names)} vs {sorted(b.data)}")
    out = {}
    for name in names:
        parts = []
        for b in blocks:
            v = b.data[name]
            if field_align(name) == "episode":
                parts.append(v)
            else:
                parts.append(v.reshape((v.shape[0] * v.shape[1],) + v.shape[2:]))
        out[name] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    out["steps"] = np.concatenate([np.full(b.n, b.steps, dtype=np.int64) for b in blocks])
    return out


def offsets(steps: np.ndarray, extra: int) -> np.ndarray:
    """Start row of each episode (``extra=1`` for obs-aligned fields), plus the end."""
    out = np.zeros(len(steps) + 1, dtype=np.int64)
    np.cumsum(np.asarray(steps, dtype=np.int64) + extra, out=out[1:])
    return out


def obs_valid(alive: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """[sum(T+1), N]: obs row t of an episode is real iff the agent acted at step t or t-1."""
    starts = offsets(steps, 0)
    ostarts = offsets(steps, 1)
    n_obs = int(ostarts[-1])
    valid = np.zeros((n_obs,) + alive.shape[1:], dtype=bool)
    # step row j of episode e -> obs rows (j - starts[e] + ostarts[e]) and that + 1
    ep = np.repeat(np.arange(len(steps)), np.asarray(steps, dtype=np.int64))
    rows = np.arange(alive.shape[0]) - starts[ep] + ostarts[ep]
    valid[rows] |= alive
    valid[rows + 1] |= alive
    return valid

