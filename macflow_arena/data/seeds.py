"""Seeds of appended recordings: continue after the last committed episode, never repeat one.

An episode is identified by its world seed and ``reset_index``. Appending to a
dataset (``record --append``, e.g. after a kill) with the seed it was first
recorded with would record the same episodes again. ``append_seed`` picks the
seed after the largest committed one when none is given, and refuses a given
seed whose range overlaps committed seeds unless ``allow_repeat`` says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def committed_seeds(path: str | Path) -> np.ndarray:
    """The ``seed`` of every committed episode (empty if the folder holds no dataset)."""
    from .loader import Dataset
    from .manifest import MANIFEST

    if not (Path(path) / MANIFEST).is_file():
        return np.zeros(0, np.int64)
    ds = Dataset(path)
    parts = [a["seed"] for a in ds.iter_shards(check=False)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def append_seed(path: str | Path, seed: int | None, span: int, allow_repeat: bool = False) -> int:
    """The first seed of a recording of ``span`` seeds (``seed .. seed + span - 1``) into ``path``."""
    used = committed_seeds(path)
    if seed is None:
        return int(used.max()) + 1 if used.size else 0
    if not allow_repeat and used.size:
        clash = used[(used >= seed) & (used < seed + span)]
        if clash.size:
            raise ValueError(
                f"{path} already holds episodes of seed(s) {sorted(set(clash.tolist()))[:5]} in the range "
                f"{seed}..{seed + span - 1}: appending would record the same episodes again. Leave --seed out "
                f"to continue after the last committed seed ({int(used.max()) + 1}), or pass --allow-repeat-seeds")
    return int(seed)
