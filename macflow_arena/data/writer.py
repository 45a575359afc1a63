"""DatasetWriter: creates or appends to a dataset folder and commits shards.

Commit protocol (see RELIABILITY.md, "Datasets"): shard bytes go to a temp file
in the dataset folder, fsync, rename to ``shard-NNNNNN.npz``, fsync folder,
then one manifest line is appended and fsynced. Only that line makes the
episodes part of the dataset. If any step fails (``ENOSPC``...), the temp
file or renamed shard is removed, the manifest is cut back to its previous
size, the episodes stay pending in memory and the ``OSError`` propagates.

One writer at a time: an ``flock`` on ``.lock`` in the folder (released by the
kernel if the process dies).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .blocks import EpisodeBlock, concat_blocks, field_align
from .errors import DatasetExistsError, DatasetLockedError, HeaderMismatchError
from .fsio import FileLock, atomic_write, fsync_dir, is_temp_name
from .manifest import MANIFEST, append_record, create_manifest, cut_torn_tail, read_manifest
from .schema import SCHEMA_VERSION, build_layout, layout_from_header, layout_json, space_to_json
from .shards import SELF_RECORD, check_values, encode_shard, shard_name, shard_seq
from .repair_rebuild import self_record_bytes

LOCK = ".lock"
# Header keys that must agree when appending to an existing dataset.
_IDENTITY = ("env_id", "agents", "observation_spaces", "action_spaces", "state_space", "layout", "info_keys")


def make_header(*, env_id: str, agents: list[str], observation_spaces: Mapping, action_spaces: Mapping,
                state_space=None, scenario_sha256: str | None = None, info_keys=(), behaviour: Mapping | None = None,
                quality: str | None = None, reference_returns: Mapping | None = None,
                config: Mapping | None = None, **extra: Any) -> dict:
    """The manifest header for a new dataset (spaces given as gymnasium spaces)."""
    from .. import __version__

    layout = build_layout(list(agents), observation_spaces, action_spaces, state_space)
    return {
        "schema": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
        "env_id": env_id,
        "scenario_sha256": scenario_sha256,
        "agents": list(agents),
        "observation_spaces": {a: space_to_json(observation_spaces[a]) for a in agents},
        "action_spaces": {a: space_to_json(action_spaces[a]) for a in agents},
        "state_space": space_to_json(state_space) if state_space is not None else None,
        "layout": layout_json(layout),
        "info_keys": list(info_keys),
        "behaviour": dict(behaviour or {}),
        "quality": quality,
        "reference_returns": dict(reference_returns or {}),
        "return_definition": "sum over steps of the mean reward of the agents alive at that step",
        "config": dict(config or {}),
        **extra,
    }


class DatasetWriter:
    """Append episodes to ``path``; every ``episodes_per_shard`` episodes become one committed shard.

    ``mode``: ``"create"`` (the folder must not hold a dataset), ``"append"``
    (it must, recorded on the same env and spaces), ``"auto"`` (either), or
    ``"overwrite"`` (delete an existing dataset's files first).
    """

    def __init__(self, path: str | os.PathLike, header: Mapping | None = None, *, episodes_per_shard: int = 100,
                 mode: str = "auto", check: bool = True):
        if episodes_per_shard < 1:
            raise ValueError("episodes_per_shard must be >= 1")
        if mode not in ("create", "append", "auto", "overwrite"):
            raise ValueError(f"mode must be create, append, auto or overwrite, got {mode!r}")
        self.path = Path(path).expanduser()
        self.episodes_per_shard = int(episodes_per_shard)
        self.check = check
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path / LOCK)
        if not self._lock.acquire():
            raise DatasetLockedError(f"{self.path} is being written by another process (pid {self._lock.holder()})")
        try:
            self._open(header, mode)
        except BaseException:
            self._lock.release()
            raise
        self._pending: list[EpisodeBlock] = []
        self.closed = False

    # -- opening ----------------------------------------------------------------------------
    def _open(self, header: Mapping | None, mode: str) -> None:
        exists = (self.path / MANIFEST).exists()
        if exists and mode == "overwrite":
            self._wipe()
            exists = False
        if exists and mode == "create":
            raise DatasetExistsError(f"{self.path} already holds a dataset; pass mode='append' or 'overwrite'")
        if not exists and mode == "append":
            raise DatasetExistsError(f"{self.path} holds no dataset to append to")
        if exists:
            cut_torn_tail(self.path)
            m = read_manifest(self.path)
            if header is not None:
                for key in _IDENTITY:
                    if key in header and header.get(key) != m.header.get(key):
                        raise HeaderMismatchError(
                            f"{self.path} was recorded on {m.header.get('env_id')} with different {key!r}; "
                            f"cannot append {header.get('env_id')} episodes (use another dataset name)"
                        )
                label = lambda h: (h.get("behaviour") or {}).get("label", "executed")  # noqa: E731
                if label(header) != label(m.header):
                    raise HeaderMismatchError(
                        f"{self.path} stores {label(m.header)} actions; cannot append episodes that store "
                        f"{label(header)} ones (record them under another dataset name)")
            self.header = m.header
            ids = m.episode_ids
            self._next_id = max(ids) + 1 if ids else 0
            seqs = [s for s in (shard_seq(p.name) for p in self.path.iterdir()) if s is not None]
            self._next_seq = max(seqs) + 1 if seqs else 0
        else:
            if header is None:
                raise ValueError("a header is needed to create a dataset (see make_header)")
            self._clear_leftovers()
            create_manifest(self.path, dict(header))
            self.header = read_manifest(self.path).header
            self._next_id = 0
            self._next_seq = 0
        self.layout = layout_from_header(self.header)
        self.agents = list(self.header["agents"])

    def _clear_leftovers(self) -> None:
        shards = [p.name for p in self.path.iterdir() if shard_seq(p.name) is not None]
        if shards:
            raise DatasetExistsError(
                f"{self.path} holds shard files ({shards[0]} ...) but no manifest; move them away or "
                "pass mode='overwrite' to delete them"
            )
        for p in self.path.iterdir():
            if is_temp_name(p.name):
                p.unlink()

    def _wipe(self) -> None:
        for p in self.path.iterdir():
            if p.name == MANIFEST or is_temp_name(p.name) or shard_seq(p.name) is not None:
                p.unlink()
        fsync_dir(self.path)

    # -- writing ----------------------------------------------------------------------------
    @property
    def pending_episodes(self) -> int:
        return sum(b.n for b in self._pending)

    def add(self, block: EpisodeBlock) -> list[int]:
        """Queue a block of finished episodes; commits full shards. Returns the new episode ids."""
        if self.closed:
            raise RuntimeError(f"dataset writer for {self.path} is closed")
        n = block.n
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        block.data["episode_id"] = ids
        if self.check:
            self._check(block)
        self._next_id += n
        self._pending.append(block)
        while self.pending_episodes >= self.episodes_per_shard:
            self.commit(self.episodes_per_shard)
        return ids.tolist()

    def _check(self, block: EpisodeBlock) -> None:
        for name in self.layout:
            if name not in block.data:
                raise ValueError(f"episode block lacks field {name!r} that the dataset layout has")
        arrays = concat_blocks([block])
        check_values(arrays, self.layout, self.agents, f"recording into {self.path}")

    def commit(self, max_episodes: int | None = None) -> str | None:
        """Write pending episodes (at most ``max_episodes``) as one shard. Returns its name."""
        if not self._pending:
            return None
        take, count = [], 0
        limit = max_episodes or self.pending_episodes
        rest = []
        for b in self._pending:
            if count >= limit:
                rest.append(b)
            elif count + b.n <= limit:
                take.append(b)
                count += b.n
            else:
                k = limit - count
                take.append(b.take(0, k))
                rest.append(b.take(k, b.n))
                count += k
        arrays = concat_blocks(take)
        self._write_shard(arrays)
        self._pending = rest
        return self.last_shard

    def _write_shard(self, arrays: dict[str, np.ndarray]) -> None:
        order = sorted(arrays, key=lambda k: (field_align(k) != "episode", k))
        name = shard_name(self._next_seq)
        rets = episode_returns_concat(arrays)
        record = {
            "kind": "shard", "name": name, "episodes": arrays["episode_id"].tolist(),
            "steps": arrays["steps"].tolist(), "returns": [float(r) for r in rets], "schema": SCHEMA_VERSION,
        }
        # the shard describes itself (its record and the header), so repair can rebuild the manifest from it
        own = {k: arrays[k] for k in order}
        own[SELF_RECORD] = self_record_bytes(record, self.header)
        data = encode_shard(own)
        record.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        path = atomic_write(self.path, name, data)
        self._next_seq += 1
        try:
            append_record(self.path, record)
        except BaseException:
            try:
                path.unlink()
                fsync_dir(self.path)
            except OSError:
                pass
            raise
        self.last_shard = name

    def set_meta(self, **values: Any) -> None:
        """Append a metadata update (e.g. ``reference_returns``) merged over the header by readers."""
        append_record(self.path, {"kind": "meta", "set": values})
        self.header.update(values)

    def close(self) -> None:
        """Commit every pending episode and release the lock (idempotent)."""
        if self.closed:
            return
        try:
            while self._pending:
                self.commit(self.episodes_per_shard)
        finally:
            self.closed = True
            self._lock.release()

    def abort(self) -> None:
        """Release the lock without committing pending episodes."""
        self._pending = []
        self.closed = True
        self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def episode_returns_concat(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per-episode returns of a shard's arrays (the definition of ``blocks.episode_returns``)."""
    steps = np.asarray(arrays["steps"], dtype=np.int64)
    r = np.where(arrays["alive"], arrays["reward"], 0.0).astype(np.float64)
    per_step = r.sum(-1) / np.maximum(arrays["alive"].sum(-1), 1)
    starts = np.concatenate([[0], np.cumsum(steps)[:-1]])
    return np.add.reduceat(per_step, starts) if len(steps) else np.zeros(0)


__all__ = ["DatasetWriter", "make_header", "episode_returns_concat", "LOCK"]
