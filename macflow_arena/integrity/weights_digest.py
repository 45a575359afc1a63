"""Content checksums of weights files (checkpoints and team weights), kept in their JSON companion.

A weights file cannot hold its own sha256, so its JSON companion does (the
checkpoint's ``step-N.json`` sidecar, a team's ``config.json``)::

    "weights_checksum": {"file": "weights.safetensors", "sha256": "...", "tensors_sha256": "...",
                         "previous": [{"sha256": ..., "tensors_sha256": ...}]}

``sha256`` covers every byte of the file; ``tensors_sha256`` covers the tensors
alone (each name, dtype, shape and raw bytes, in name order), so it does not
depend on which networks an algorithm saves. Writers call ``digests`` on the
bytes they write; every load calls ``check`` on the bytes it read and refuses a
file that matches neither the current record nor, for a checkpoint whose save
into the same path was killed between its two files, one of ``previous``.

Nothing here imports torch: the tensors are read from the safetensors framing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

KEY = "weights_checksum"
KEEP_PREVIOUS = 2


class WeightsChecksumError(ValueError):
    """A weights file does not match the checksum its JSON companion records."""


def tensors_sha256(data: bytes | bytearray | memoryview) -> str:
    """sha256 over (name, dtype, shape, bytes) of every tensor of a safetensors file, in name order."""
    view = memoryview(data)
    n = int.from_bytes(bytes(view[:8]), "little")
    header = json.loads(bytes(view[8 : 8 + n]))
    base = 8 + n
    h = hashlib.sha256()
    for name in sorted(k for k in header if k != "__metadata__"):
        info = header[name]
        a, b = info["data_offsets"]
        h.update(json.dumps([name, info["dtype"], info["shape"]]).encode() + b"\0")
        h.update(view[base + a : base + b])
    return h.hexdigest()


def digests(data: bytes | bytearray | memoryview, file_name: str) -> dict[str, Any]:
    """The ``weights_checksum`` record of the bytes about to be written as ``file_name``."""
    return {"file": file_name, "sha256": hashlib.sha256(data).hexdigest(), "tensors_sha256": tensors_sha256(data)}


def with_previous(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """``new`` listing the last checksums of ``old`` as ``previous`` (a save into the same path)."""
    if not isinstance(old, dict) or "sha256" not in old:
        return new
    prev = [{"sha256": old["sha256"], "tensors_sha256": old.get("tensors_sha256")}]
    prev += [p for p in old.get("previous", []) if isinstance(p, dict)]
    prev = [p for p in prev if p["sha256"] != new["sha256"]][:KEEP_PREVIOUS]
    return {**new, "previous": prev} if prev else new


def check(path: str | os.PathLike, data: bytes | bytearray, record: Any, companion: str | os.PathLike,
          fix: str) -> None:
    """Raise ``WeightsChecksumError`` (one line: the file and ``fix``) unless ``data`` matches ``record``."""
    path, companion = Path(path), Path(companion)
    if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
        raise WeightsChecksumError(
            f"{path}: no content checksum in {companion} ('{KEY}'), so corruption cannot be ruled out; {fix}")
    got = hashlib.sha256(data).hexdigest()
    accepted = [record] + [p for p in record.get("previous", []) if isinstance(p, dict)]
    for rec in accepted:
        if rec.get("sha256") == got:
            want_t = rec.get("tensors_sha256")
            if want_t is not None and want_t != tensors_sha256(data):  # pragma: no cover - needs a sha256 collision
                break
            return
    raise WeightsChecksumError(
        f"{path}: sha256 {got[:12]}... differs from the {record['sha256'][:12]}... recorded in {companion.name} "
        f"(the weights were altered or corrupted); {fix}")


def read_record(companion: str | os.PathLike) -> Any:
    """The ``weights_checksum`` record of a JSON companion, or None if it has none or cannot be read."""
    from .json_safe import load_file

    try:
        obj = load_file(companion, max_bytes=16 * 1024 * 1024)
    except (OSError, ValueError):
        return None
    return obj.get(KEY) if isinstance(obj, dict) else None
