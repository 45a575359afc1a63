"""Rebuild manifest lines and the manifest header from the shards themselves.

Every shard carries ``_manifest`` (uint8 JSON): its own manifest record
(episode ids, steps, returns, schema version) and a copy of the dataset header
at the time it was written. A shard whose bytes are whole (every zip member's
CRC32 checks) and self-consistent (its arrays agree with that record and the
header's layout, values finite and in their spaces, returns recomputed equal)
is data: ``repair`` rebuilds its manifest line from it instead of deleting it,
and rebuilds a damaged header from the newest shard's copy. Shards written
before this copy existed are rebuilt against the manifest's header when it is
readable. Nothing here deletes anything; see ``integrity.repair``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import DatasetError, ShardContentError
from .fsio import read_regular

MAX_SHARD_BYTES = 1 << 36  # 64 GiB: a file larger than this is not one of our shards


def self_record_bytes(record: Mapping[str, Any], header: Mapping[str, Any]) -> np.ndarray:
    """The ``_manifest`` member of a shard: its record (without sha256/bytes) and the header."""
    body = {"record": dict(record), "header": dict(header)}
    return np.frombuffer(json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode(), np.uint8)


def read_self_record(arrays: Mapping[str, np.ndarray], where: str) -> dict | None:
    """The shard's ``_manifest`` copy, or None when the shard predates it."""
    from ..integrity.json_safe import loads
    from .shards import SELF_RECORD

    raw = arrays.get(SELF_RECORD)
    if raw is None:
        return None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ShardContentError(f"{where}: its {SELF_RECORD} member is not uint8 JSON")
    try:
        obj = loads(raw.tobytes(), f"{where} {SELF_RECORD}")
    except ValueError as e:
        raise ShardContentError(f"{where}: unreadable {SELF_RECORD} copy ({e})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("record"), dict) or not isinstance(obj.get("header"), dict):
        raise ShardContentError(f"{where}: its {SELF_RECORD} copy lacks the record or the header")
    return obj


def header_copy(path: Path) -> tuple[dict | None, str | None]:
    """(header, shard name) from the readable shard of highest sequence number in ``path``."""
    from .shards import parse_shard, shard_seq

    names = sorted((p.name for p in Path(path).iterdir() if shard_seq(p.name) is not None),
                   key=shard_seq, reverse=True)
    for name in names:
        try:
            data = read_regular(Path(path) / name, MAX_SHARD_BYTES)
            own = read_self_record(parse_shard(data, str(Path(path) / name)), name)
        except (DatasetError, OSError):
            continue
        if own is not None:
            return own["header"], name
    return None, None


def rebuild_record(path: Path, name: str, header: Mapping[str, Any] | None) -> dict:
    """The manifest record of shard ``path/name`` rebuilt from the shard (``DatasetError`` if it is not
    whole and self-consistent). ``header``: the manifest's, used when the shard carries no copy."""
    from .manifest import ShardEntry
    from .schema import check_schema, layout_from_header
    from .shards import check_structure, check_values, parse_shard
    from .writer import episode_returns_concat

    where = str(Path(path) / name)
    try:
        data = read_regular(Path(path) / name, MAX_SHARD_BYTES)
    except OSError as e:
        raise ShardContentError(f"{where}: cannot read ({e})") from None
    arrays = parse_shard(data, where)  # zip CRCs and declared sizes checked here
    own = read_self_record(arrays, where)
    head = own["header"] if own is not None else header
    if head is None:
        raise ShardContentError(f"{where}: carries no header copy and the manifest header is unreadable")
    schema = own["record"].get("schema") if own is not None else head.get("schema")
    check_schema(schema, where)
    for key in ("episode_id", "steps"):
        if key not in arrays:
            raise ShardContentError(f"{where}: field {key!r} is missing")
    episodes = [int(x) for x in arrays["episode_id"].tolist()]
    steps = [int(x) for x in arrays["steps"].tolist()]
    if not episodes:
        raise ShardContentError(f"{where}: holds no episode")
    try:
        layout, agents = layout_from_header(head), list(head["agents"])
    except (KeyError, TypeError, ValueError) as e:
        raise ShardContentError(f"{where}: its header copy is unusable ({e})") from None
    entry = ShardEntry(name=name, sha256="", bytes=len(data), episodes=episodes, steps=steps, returns=[],
                       schema=str(schema), line=0)
    check_structure(arrays, entry, layout, len(agents), where)
    check_values(arrays, layout, agents, where)
    from .trainable import check_trainable

    check_trainable(arrays, layout, agents, where)
    returns = [float(r) for r in episode_returns_concat(arrays)]
    if own is not None:
        rec = own["record"]
        if rec.get("episodes") != episodes or rec.get("steps") != steps or rec.get("returns") != returns:
            raise ShardContentError(f"{where}: its arrays disagree with its own record (episodes, steps or returns)")
    return {"kind": "shard", "name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "episodes": episodes, "steps": steps, "returns": returns, "schema": str(schema)}


def quarantine(path: Path, name: str) -> str:
    """Move ``path/name`` into ``path/quarantine/`` (never deleted); returns where it went."""
    import os

    from .fsio import fsync_dir

    qdir = Path(path) / QUARANTINE
    qdir.mkdir(exist_ok=True)
    dest = qdir / name.lstrip(".")
    k = 1
    while dest.exists():
        dest = qdir / f"{name.lstrip('.')}.{k}"
        k += 1
    os.replace(Path(path) / name, dest)
    fsync_dir(qdir)
    return f"{QUARANTINE}/{dest.name}"


def keep_copy(path: Path, name: str, data: bytes) -> str:
    """Save ``data`` (e.g. the manifest before a rewrite) into the quarantine folder."""
    from .fsio import atomic_write

    qdir = Path(path) / QUARANTINE
    qdir.mkdir(exist_ok=True)
    k = 1
    while (qdir / f"{name}.{k}").exists():
        k += 1
    atomic_write(qdir, f"{name}.{k}", data)
    return f"{QUARANTINE}/{name}.{k}"


QUARANTINE = "quarantine"
