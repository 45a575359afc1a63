"""Training and evaluation: the trainer loop (``trainer.train``), evaluation on the
batched VectorEnv (``evaluate.evaluate``), device-resident datasets (``data``) and
torchrun data parallelism (``distributed``). Needs torch (``pip install "macflow-arena[train]"``).
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "config",
    "train": "trainer",
    "evaluate_run": "trainer",
    "evaluate": "evaluate",
    "load_device_dataset": "data",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
