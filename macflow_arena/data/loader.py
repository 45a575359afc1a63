"""The loader API the trainer uses.

``Dataset(path)`` reads only the manifest (cheap: card, ids, returns).
``Dataset.load()`` reads every committed shard (size, sha256, structure and
values checked) into one ``EpisodeArrays``: fields concatenated over episodes
(obs-aligned fields have ``T + 1`` rows per episode, step-aligned ``T``), with
``episode(i)`` views ``[T, N, ...]``, ``padded()`` arrays ``[E, Tmax, N, ...]``
and ``sample_windows()`` for training on windows that never cross an episode end.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from .blocks import field_align, offsets
from .manifest import read_manifest
from .paths import resolve_dataset
from .schema import layout_from_header, space_from_json
from .shards import load_shard


class Dataset:
    """A committed dataset (what the manifest lists; unlisted files are ignored)."""

    def __init__(self, path: str | os.PathLike):
        self.path = resolve_dataset(path)
        self.manifest = read_manifest(self.path, strict=True)
        self.header = self.manifest.header
        self.shards = self.manifest.shards
        self.agents: list[str] = list(self.header["agents"])
        self.layout = layout_from_header(self.header)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def env_id(self) -> str:
        return self.header["env_id"]

    @property
    def episode_ids(self) -> list[int]:
        return self.manifest.episode_ids

    @property
    def num_episodes(self) -> int:
        return sum(len(s.episodes) for s in self.shards)

    @property
    def num_steps(self) -> int:
        return sum(sum(s.steps) for s in self.shards)

    @property
    def returns(self) -> np.ndarray:
        return np.array([r for s in self.shards for r in s.returns], dtype=np.float64)

    def require_env(self, env_id: str) -> None:
        """Raise unless this dataset was recorded on ``env_id`` (with or without ``-vN``)."""
        from .errors import HeaderMismatchError

        mine = self.env_id
        if env_id != mine and not (mine.rsplit("-v", 1)[0] == env_id):
            raise HeaderMismatchError(f"dataset {self.name} was recorded on {mine}, not {env_id}")

    def observation_space(self, agent: str):
        return space_from_json(self.header["observation_spaces"][agent])

    def action_space(self, agent: str):
        return space_from_json(self.header["action_spaces"][agent])

    def card(self) -> dict:
        from .card import dataset_card

        return dataset_card(self)

    def iter_shards(self, check: bool = True) -> Iterator[dict[str, np.ndarray]]:
        for entry in self.shards:
            yield load_shard(self.path, entry, self.layout, self.agents, check=check)

    def load(self, check: bool = True) -> "EpisodeArrays":
        """Every committed episode in memory (raises a specific ``DatasetError`` on any damage)."""
        parts = list(self.iter_shards(check=check))
        if not parts:
            return EpisodeArrays(self._empty(), self.header)
        names = list(parts[0])
        fields = {k: (parts[0][k] if len(parts) == 1 else np.concatenate([p[k] for p in parts])) for k in names}
        return EpisodeArrays(fields, self.header)

    def _empty(self) -> dict[str, np.ndarray]:
        n = len(self.agents)
        out = {name: np.zeros((0,) + ((n,) if f.get("per_agent", True) else ()) + tuple(f["shape"]), f["dtype"])
               for name, f in self.layout.items()}
        for name, dt in (("reward", np.float64), ("terminated", bool), ("truncated", bool), ("alive", bool)):
            out[name] = np.zeros((0, n), dt)
        for k in self.header.get("info_keys", []):
            out[f"info.{k}"] = np.zeros((0, n), np.float64)
        for name, dt in (("episode_id", np.int64), ("seed", np.int64), ("reset_index", np.int64), ("steps", np.int64),
                         ("start_time", np.float64), ("wall_time", np.float64), ("interrupted", bool)):
            out[name] = np.zeros(0, dt)
        out["policy"] = np.zeros((0, n), dtype=str)
        out["human"] = np.zeros((0, n), dtype=bool)
        return out

    def episodes(self, check: bool = True) -> Iterator[dict[str, np.ndarray]]:
        """Episodes one by one (a shard in memory at a time)."""
        for arrays in self.iter_shards(check=check):
            yield from EpisodeArrays(arrays, self.header).iter_episodes()

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, env={self.env_id}, episodes={self.num_episodes}, steps={self.num_steps})"


class EpisodeArrays:
    """Episodes concatenated along time. ``fields[name]`` as in a shard; see the module doc."""

    def __init__(self, fields: dict[str, np.ndarray], header: dict):
        self.fields = fields
        self.header = header
        self.agents = list(header["agents"])
        self.steps = np.asarray(fields["steps"], dtype=np.int64)
        self.episode_id = np.asarray(fields["episode_id"], dtype=np.int64)
        self.step_start = offsets(self.steps, 0)
        self.obs_start = offsets(self.steps, 1)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def num_steps(self) -> int:
        return int(self.step_start[-1])

    def index_of(self, episode_id: int) -> int:
        hit = np.flatnonzero(self.episode_id == episode_id)
        if not hit.size:
            raise KeyError(f"episode {episode_id} is not in this dataset")
        return int(hit[0])

    def episode(self, i: int) -> dict[str, np.ndarray]:
        """Episode at position ``i``: obs-aligned ``[T + 1, N, ...]``, step-aligned ``[T, N, ...]``, metadata."""
        out = {}
        s0, s1 = self.step_start[i], self.step_start[i + 1]
        o0, o1 = self.obs_start[i], self.obs_start[i + 1]
        for name, v in self.fields.items():
            a = field_align(name)
            out[name] = v[i] if a == "episode" else (v[s0:s1] if a == "step" else v[o0:o1])
        return out

    def iter_episodes(self) -> Iterator[dict[str, np.ndarray]]:
        for i in range(len(self)):
            yield self.episode(i)

    def returns(self) -> np.ndarray:
        from .writer import episode_returns_concat

        return episode_returns_concat(self.fields)

    def padded(self, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """All episodes as ``[E, Tmax(+1), ...]`` zero-padded, with ``mask`` ``[E, Tmax]`` (real steps)."""
        e, tmax = len(self), int(self.steps.max())
        t = np.arange(tmax + 1)
        out: dict[str, np.ndarray] = {}
        for name in names or list(self.fields):
            v = self.fields[name]
            a = field_align(name)
            if a == "episode":
                out[name] = v
                continue
            length = tmax if a == "step" else tmax + 1
            start = self.step_start if a == "step" else self.obs_start
            last = self.steps if a == "step" else self.steps + 1
            valid = t[None, :length] < last[:, None]
            rows = start[:-1, None] + np.minimum(t[None, :length], last[:, None] - 1)
            arr = v[rows]
            arr[~valid] = 0
            out[name] = arr
        out["mask"] = t[None, :tmax] < self.steps[:, None]
        return out

    def sample_windows(self, batch_size: int, length: int, rng: np.random.Generator,
                       full_only: bool = False) -> dict[str, np.ndarray]:
        """``batch_size`` windows of ``length`` steps, zero-padded past their episode's end.

        Starts are uniform over all steps (``full_only``: over starts whose window
        fits, or 0 for shorter episodes). Returns obs-aligned fields
        ``[B, length + 1, N, ...]`` (row k + 1 is the next observation of step k),
        step-aligned ``[B, length, N, ...]``, ``mask`` ``[B, length]`` (real steps),
        ``obs_mask`` ``[B, length + 1]``, ``alive`` already combined with ``mask``,
        ``episode_id`` and ``start`` ``[B]``. A window never holds another episode's data.
        """
        if length < 1 or batch_size < 1:
            raise ValueError("batch_size and length must be >= 1")
        if full_only:
            n_starts = np.maximum(self.steps - length + 1, 1)
            cum = offsets(n_starts, 0)
            j = rng.integers(int(cum[-1]), size=batch_size)
            ep = np.searchsorted(cum, j, side="right") - 1
            t0 = j - cum[ep]
        else:
            j = rng.integers(self.num_steps, size=batch_size)
            ep = np.searchsorted(self.step_start, j, side="right") - 1
            t0 = j - self.step_start[ep]
        steps = self.steps[ep][:, None]
        ts = t0[:, None] + np.arange(length)[None]
        to = t0[:, None] + np.arange(length + 1)[None]
        mask = ts < steps
        omask = to <= steps
        srows = self.step_start[ep][:, None] + np.minimum(ts, steps - 1)
        orows = self.obs_start[ep][:, None] + np.minimum(to, steps)
        out: dict[str, np.ndarray] = {}
        for name, v in self.fields.items():
            a = field_align(name)
            if a == "episode":
                continue
            rows, valid = (srows, mask) if a == "step" else (orows, omask)
            arr = v[rows]
            arr[~valid] = 0
            out[name] = arr
        out["alive"] &= mask[..., None]
        out["mask"] = mask
        out["obs_mask"] = omask
        out["episode_id"] = self.episode_id[ep]
        out["start"] = t0
        return out


def load_dataset(path: str | os.PathLike, check: bool = True) -> EpisodeArrays:
    """Shorthand for ``Dataset(path).load(check)``."""
    return Dataset(path).load(check=check)
