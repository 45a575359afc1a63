"""Training and evaluation: the trainer loop (``trainer.train``), evaluation on the
batched VectorEnv (``evaluate.evaluate``), device-resident datasets (``data``) and
torchrun data parallelism (``distributed``). Needs torch (``pip install "macflow-arena[train]"``).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TrainConfig": "config",
    "train": "trainer",
    "evaluate_run": "trainer",
    "evaluate": "evaluate",
    "load_device_dataset": "data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
