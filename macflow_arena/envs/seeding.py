"""Per-world seeds for the batched envs: world b of a batch seeded s gets s + b."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def world_seeds(seed: int | Sequence[int], num_worlds: int) -> list[int]:
    """``seed + b`` for each world b, or the given per-world list (checked for length)."""
    seeds = [int(seed) + i for i in range(num_worlds)] if np.isscalar(seed) else [int(s) for s in seed]
    if len(seeds) != num_worlds:
        raise ValueError(f"need {num_worlds} seeds, got {len(seeds)}")
    return seeds
