"""Shard files: uncompressed ``.npz`` (numpy's own zip of ``.npy`` arrays, no pickle).

A shard is written once (see ``fsio.atomic_write``) and never changed. A
reader checks, in this order: the file exists and is a regular file, its size
equals the manifest's ``bytes`` (a short file is *truncated*), its sha256
equals the manifest's (a flipped byte), the arrays parse, their episode ids,
step counts, shapes and dtypes agree with the manifest and header, and every
value is finite and inside its space (``DatasetValueError`` names the episode,
field, step and agent).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .blocks import field_align, obs_valid, offsets
from .errors import DatasetValueError, ShardChecksumError, ShardContentError, ShardMissingError, ShardSizeError
from .fsio import read_regular
from .npz_reader import read_npz
from .manifest import ShardEntry
from .schema import EPISODE_FIELDS, STEP_FIELDS

SHARD_PREFIX, SHARD_SUFFIX = "shard-", ".npz"


def shard_name(seq: int) -> str:
    return f"{SHARD_PREFIX}{seq:06d}{SHARD_SUFFIX}"


def shard_seq(name: str) -> int | None:
    if name.startswith(SHARD_PREFIX) and name.endswith(SHARD_SUFFIX):
        mid = name[len(SHARD_PREFIX) : -len(SHARD_SUFFIX)]
        if mid.isdigit():
            return int(mid)
    return None


def encode_shard(arrays: Mapping[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def read_shard_bytes(folder: Path, entry: ShardEntry) -> bytearray:
    """The shard's bytes, checked against the manifest's size and sha256."""
    path = Path(folder) / entry.name
    try:
        data = read_regular(path, entry.bytes + 1)
    except FileNotFoundError:
        raise ShardMissingError(
            f"{path}: shard committed at manifest line {entry.line} is missing "
            f"(episodes {entry.episodes[0]}..{entry.episodes[-1]}); restore it or run `macflow-arena dataset repair`"
        ) from None
    except OSError as e:
        raise ShardContentError(f"{path}: cannot read shard: {e}") from None
    if len(data) != entry.bytes:
        what = "truncated" if len(data) < entry.bytes else "longer than committed"
        raise ShardSizeError(
            f"{path}: shard is {what} ({len(data)} bytes on disk, manifest says {entry.bytes}); "
            "restore it or run `macflow-arena dataset repair`"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ShardChecksumError(
            f"{path}: sha256 {digest[:12]}... differs from the manifest's {entry.sha256[:12]}... "
            "(the file was altered or corrupted); restore it or run `macflow-arena dataset repair`"
        )
    return data


# A copy of the shard's manifest record and of the dataset header, stored in the shard itself
# (uint8 JSON), so ``repair`` can rebuild a lost or damaged manifest line or header from the shard.
SELF_RECORD = "_manifest"


def rows_from(episodes: int, steps_total: int) -> Callable[[str, dict], int | None]:
    """Row counts a shard's fields must declare, from its episode and step counts."""
    rows = {"episode": episodes, "step": steps_total, "obs": steps_total + episodes}

    def rows_for(key: str, _read: dict) -> int | None:
        if key == SELF_RECORD or not (key in EPISODE_FIELDS or key in STEP_FIELDS or key.startswith(("obs", "info.",
                                                                                                      "action", "state"))):
            return None
        return rows[field_align(key)]

    return rows_for


def self_rows(key: str, read: dict) -> int | None:
    """Row counts from the shard's own ``episode_id`` and ``steps`` (read first; see ``member_order``)."""
    if key in ("episode_id", "steps"):
        return len(read["episode_id"]) if key == "steps" and "episode_id" in read else None
    if "episode_id" not in read or "steps" not in read:
        return None
    return rows_from(len(read["episode_id"]), int(np.sum(read["steps"], dtype=np.int64)))(key, read)


def member_order(key: str) -> tuple:
    return (key != "episode_id", key != "steps", field_align(key) != "episode", key)


def parse_shard(data: bytes | bytearray, where: str, entry: ShardEntry | None = None) -> dict[str, np.ndarray]:
    """The shard's arrays; with ``entry`` every field's declared rows are checked against the manifest's
    step counts before it is read (``npz_reader``), else against the shard's own counts."""
    rows_for = rows_from(len(entry.episodes), int(sum(entry.steps))) if entry is not None else self_rows
    return read_npz(data, where, rows_for, order=member_order)


def known_field(name: str, layout: Mapping[str, dict]) -> bool:
    return name in layout or name in EPISODE_FIELDS or name in STEP_FIELDS or name.startswith("info.")


def check_structure(arrays: dict[str, np.ndarray], entry: ShardEntry, layout: Mapping[str, dict],
                    n_agents: int, where: str) -> None:
    """Episode ids, steps, row counts, shapes and dtypes agree with manifest and layout.

    Fields this schema does not know (added by a newer minor version) are dropped."""
    for name in [k for k in arrays if not known_field(k, layout)]:
        del arrays[name]
    for name in ("episode_id", "steps", "reward", "terminated", "truncated", "alive") + tuple(layout):
        if name not in arrays:
            raise ShardContentError(f"{where}: field {name!r} is missing")
    ids, steps = arrays["episode_id"], arrays["steps"]
    if ids.tolist() != list(entry.episodes) or steps.tolist() != list(entry.steps):
        raise ShardContentError(f"{where}: episode ids or steps differ from manifest line {entry.line}")
    e = len(entry.episodes)
    n_step, n_obs = int(np.sum(steps)), int(np.sum(steps)) + e
    for name, v in arrays.items():
        align = field_align(name)
        rows = {"episode": e, "step": n_step, "obs": n_obs}[align]
        if v.ndim == 0 or v.shape[0] != rows:
            raise ShardContentError(f"{where}: field {name!r} has {v.shape[:1]} rows, expected {rows}")
        if align != "episode" and name != "state" and (v.ndim < 2 or v.shape[1] != n_agents):
            raise ShardContentError(f"{where}: field {name!r} has shape {v.shape}, expected [rows, {n_agents}, ...]")
    for name, f in layout.items():
        v = arrays[name]
        want = tuple(f["shape"]) if not f.get("per_agent", True) else (n_agents,) + tuple(f["shape"])
        if v.shape[1:] != want or v.dtype != np.dtype(f["dtype"]):
            raise ShardContentError(
                f"{where}: field {name!r} is {v.dtype}{list(v.shape[1:])}, header says {f['dtype']}{list(want)}"
            )


def _fail(where, arrays, name, kind, row, agent, agents, obs_aligned):
    steps = arrays["steps"]
    off = offsets(steps, 1 if obs_aligned else 0)
    e = int(np.searchsorted(off, row, side="right") - 1)
    step = int(row - off[e])
    who = f", agent {agents[agent]}" if agent is not None else ""
    raise DatasetValueError(
        f"{where}: episode {int(arrays['episode_id'][e])}, field {name!r}: {kind} at "
        f"{'obs index' if obs_aligned else 'step'} {step}{who}"
    )


def check_values(arrays: Mapping[str, np.ndarray], layout: Mapping[str, dict], agents: list[str], where: str) -> None:
    """Every float is finite; every value of a live agent lies in its space."""
    alive = arrays["alive"]
    valid_obs = None
    for name, v in arrays.items():
        align = field_align(name)
        if align == "episode" or v.dtype.kind not in "fc":
            continue
        finite = np.isfinite(v)
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            agent = int(bad[1]) if v.ndim > 1 and name != "state" else None
            _fail(where, arrays, name, "NaN or inf", int(bad[0]), agent, agents, align == "obs")
    for name, f in layout.items():
        low, high = f["_low"], f["_high"]
        if not (np.isfinite(low).any() or np.isfinite(high).any()):
            continue
        v = arrays[name]
        out = (v < low) | (v > high)
        if out.ndim > 2:
            out = out.reshape(out.shape[0], out.shape[1], -1).any(-1)
        if not f.get("per_agent", True):
            out = out.reshape(out.shape[0], -1).any(-1, keepdims=True)
        if f["align"] == "step":
            live = alive
        else:
            if valid_obs is None:
                valid_obs = obs_valid(alive, arrays["steps"])
            live = valid_obs if f.get("per_agent", True) else valid_obs.any(-1, keepdims=True)
        out &= live
        if out.any():
            row, agent = (int(x) for x in np.argwhere(out)[0])
            _fail(where, arrays, name, "value outside its space", row, agent if f.get("per_agent", True) else None,
                  agents, f["align"] == "obs")
    both = arrays["terminated"] & arrays["truncated"]
    if both.any():
        row, agent = (int(x) for x in np.argwhere(both)[0])
        _fail(where, arrays, "truncated", "set together with terminated (terminated wins)", row, agent, agents, False)


def load_shard(folder: Path, entry: ShardEntry, layout: Mapping[str, dict], agents: list[str],
               *, check: bool = True) -> dict[str, np.ndarray]:
    """Read, verify and parse one committed shard."""
    where = f"{Path(folder) / entry.name}"
    data = read_shard_bytes(folder, entry)
    arrays = parse_shard(data, where, entry)
    del data
    check_structure(arrays, entry, layout, len(agents), where)
    if check:
        check_values(arrays, layout, agents, where)
    return arrays
