"""Offline datasets: crash-safe recording, loading, verification and quality levels.

A dataset is a folder of immutable shards (``shard-NNNNNN.npz``) plus an
append-only ``manifest.jsonl`` whose lines commit them (see ``manifest.py``,
``schema.py`` and ``FORMAT.md`` beside this file). Main entry points:

* ``RecordEpisodes(env, path)``: record any PettingZoo ParallelEnv;
* ``record_dataset(env_id, path, behaviour=..., quality=..., episodes=...)``:
  batched recording from our VectorEnv; ``record_suite`` for the standard levels;
* ``Dataset(path)`` / ``load_dataset(path)``: the card, whole episodes
  ``[T, N, ...]`` and windows for training;
* ``verify(path)`` / ``repair(path)``.

Attributes are imported lazily, so ``import macflow_arena.data`` stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_EXPORTS = {
    "RecordEpisodes": "recorder",
    "DatasetWriter": "writer",
    "make_header": "writer",
    "record_vector": "vector_recorder",
    "vector_header": "vector_recorder",
    "Dataset": "loader",
    "EpisodeArrays": "loader",
    "load_dataset": "loader",
    "verify": "integrity",
    "repair": "integrity",
    "dataset_card": "card",
    "format_card": "card",
    "normalized_score": "card",
    "record_dataset": "suite",
    "record_suite": "suite",
    "reference_returns": "suite",
    "calibrate_epsilon": "suite",
    "QUALITIES": "suite",
    "datasets_dir": "paths",
    "resolve_dataset": "paths",
    "SCHEMA_VERSION": "schema",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
