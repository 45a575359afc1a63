"""Checkpoints: one safetensors file (weights, optimizer moments, RNG state,
all as tensors) whose header carries the JSON metadata, plus the same metadata
as a readable ``.json`` next to it.

Metadata: format and version, algorithm name, team spec, resolved config,
step, seed, package and torch versions, dataset manifest hash, and whatever
the trainer adds (``extra``). Both files are written atomically (temp file in
the same folder, fsync, rename, folder fsync): a killed save leaves the last
good checkpoint in place. Loading reads the weights file only.

Loading never unpickles: ``.pt``/``.pth``/``.pkl``/``.ckpt`` files and files
that start like a pickled or zipped torch file are refused before anything is
run. The safetensors header is checked by hand (size, bounds, dtypes, offsets)
before the library parses it, then the tensors must match the algorithm
exactly (names, shapes, dtypes) and be finite.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import torch
from torch import Tensor

from .. import __version__
from ..integrity import safetensors_frame as sf
from ..integrity import weights_digest as wd
from ..integrity.safetensors_frame import DTYPES, MAX_HEADER, META_KEY, REFUSED_SUFFIXES  # noqa: F401
from .base import Algorithm, StateDictError, TeamSpec, config_to_dict, saved_config

FORMAT = "macflow-arena/checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message names the file and the problem."""


@dataclass
class Checkpoint:
    algo: Algorithm
    meta: dict[str, Any]
    extra_tensors: dict[str, Tensor] = field(default_factory=dict)


def _import_safetensors():
    try:
        import safetensors.torch as st
    except ImportError as e:  # convention 9
        raise ImportError('checkpoints need safetensors: pip install "macflow-arena[train]"') from e
    return st


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    from ..data.fsio import atomic_write as _atomic_write

    path = Path(path)
    _atomic_write(path.parent, path.name, data, replace=True)


def sidecar(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def save_checkpoint(
    path: str | os.PathLike,
    algo: Algorithm,
    *,
    dataset_hash: str | None = None,
    extra: dict[str, Any] | None = None,
    extra_tensors: dict[str, Tensor] | None = None,
) -> Path:
    """Save ``algo`` (and the trainer's ``extra`` JSON and ``extra_tensors``, e.g.
    a sampler's RNG state) to ``path`` (``.safetensors``) and its ``.json``."""
    st = _import_safetensors()
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path must end in .safetensors, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in algo.state_dict().items()}
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().to("cpu").contiguous().clone()
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algo": algo.name,
        "spec": algo.spec.to_dict(),
        "config": config_to_dict(algo.config),
        "step": algo.step,
        "seed": algo.seed,
        "package_version": __version__,
        "torch_version": torch.__version__,
        "dataset_hash": dataset_hash,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "extra": extra or {},
    }
    text = json.dumps(meta, indent=2, sort_keys=True)
    data = st.save(tensors, metadata={META_KEY: text})
    # The sidecar (with the weights' checksum, and those of earlier saves into this path) goes first:
    # a save killed between the two files leaves weights that one of the recorded checksums matches.
    record = wd.with_previous(wd.digests(data, path.name), wd.read_record(sidecar(path)))
    atomic_write(sidecar(path), (json.dumps({**meta, wd.KEY: record}, indent=2, sort_keys=True) + "\n").encode())
    atomic_write(path, data)
    return path


def _fail(path: Path, msg: str) -> NoReturn:
    raise CheckpointError(f"{path}: {msg}")


def check_header(path: Path, data: bytes) -> dict[str, Any]:
    """Validate the safetensors framing by hand (``integrity.safetensors_frame``); return the parsed header."""
    try:
        return sf.check_header(path, data)
    except sf.FramingError as e:
        raise CheckpointError(str(e)) from None


CHECKPOINT_FIX = ("restore it (and its .json) from a backup, or delete both to fall back to the previous "
                  "checkpoint of the run")


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Metadata and raw tensors of a checkpoint, after the framing checks and the sidecar's checksum."""
    return read_tagged(path, FORMAT, FORMAT_VERSION, "checkpoint", companion=sidecar(path), fix=CHECKPOINT_FIX)


def read_tagged(path: str | os.PathLike, fmt: str, version: int, what: str, *, companion: Path | None = None,
                fix: str = "") -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Metadata and raw tensors of a safetensors file whose header metadata says ``format: fmt``
    (checkpoints, team weights): pickles refused unread, framing checked by hand first, then
    (with ``companion``, the JSON that records the file's checksum) the content checksum."""
    path = Path(path)
    try:  # the torch-free checks (framing, pickles, tag, checksum), shared with the numpy team loader
        meta, _, data = sf.read_tagged(path, fmt, version, what, companion=companion, fix=fix)
    except sf.FramingError as e:
        raise CheckpointError(str(e)) from None
    st = _import_safetensors()
    try:
        tensors = st.load(data)
    except Exception as e:  # the library's own checks, as a clean error
        _fail(path, f"safetensors could not parse the file ({e})")
    return meta, tensors


def load_checkpoint(path: str | os.PathLike, *, device: str | torch.device = "cpu", spec: TeamSpec | None = None) -> Checkpoint:
    """Rebuild the algorithm a checkpoint was saved from (exact resume on the same device).

    ``spec``: the team the caller will run; a mismatch is a clear error.
    """
    from .registry import ALGOS

    path = Path(path)
    meta, tensors = read_checkpoint(path)
    name = meta.get("algo")
    if name not in ALGOS:
        _fail(path, f"unknown algorithm {name!r}; known: {sorted(ALGOS)}")
    cls = ALGOS[name]
    from ..integrity import config_check as cc

    try:
        cc.check_spec(meta.get("spec"), "spec")
        cc.check_algo_config(cls.Config, meta.get("config"), "config")
        saved = TeamSpec(**meta["spec"])
        config = saved_config(cls.Config, meta["config"])
        expected = cc.expected_shapes(cls, saved, config, "config")
    except (KeyError, TypeError, ValueError) as e:
        _fail(path, f"bad spec or config in the metadata ({e})")
    try:  # every network tensor's shape against the config, before anything is allocated
        cc.check_shapes(tensors, expected, "nets.", "weights")
    except ValueError as e:
        _fail(path, str(e))
    if spec is not None:
        try:
            saved.check_compatible(spec)
        except ValueError as e:
            _fail(path, str(e))
    algo = cls(saved, config, seed=int(meta.get("seed", 0)), device=device)
    extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
    state = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
    try:
        algo.load_state_dict(state)
    except StateDictError as e:
        _fail(path, str(e))
    if meta.get("step") != algo.step:
        _fail(path, f"metadata step {meta.get('step')!r} differs from the stored step {algo.step}")
    return Checkpoint(algo, meta, extra)  # extra tensors stay on the CPU (RNG states must)
