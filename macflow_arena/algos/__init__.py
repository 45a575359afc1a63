"""Offline MARL algorithms in torch: MAC-Flow and its baselines.

Every algorithm file has one shape (DESIGN.md convention 6): a frozen config
dataclass, a class with ``update(batch) -> dict[str, float]``,
``act(obs, generator, avail=None)`` and ``state_dict()/load_state_dict()``.
``registry.ALGOS`` names them; ``batch.Batch`` is the training input.

This subpackage needs torch; ``import macflow_arena`` does not import it.
"""

from __future__ import annotations

try:  # convention 9: optional heavy dependency, with an install hint
    import torch as _torch  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "macflow_arena.algos needs torch. Install the CPU build first with "
        '`pip install torch==2.13.0`, then `pip install "macflow-arena[train]"`.'
    ) from e

from .base import TeamSpec  # noqa: E402
from .batch import Batch, random_batch  # noqa: E402
from .registry import ALGOS, get, make, make_config  # noqa: E402

__all__ = ["ALGOS", "Batch", "TeamSpec", "get", "make", "make_config", "random_batch"]
