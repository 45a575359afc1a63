"""The safetensors framing, checked by hand and read without torch or the safetensors library.

A safetensors file is an 8-byte little-endian header length ``n``, a JSON
header of ``n`` bytes (``name -> {dtype, shape, data_offsets}`` plus a
``__metadata__`` map of strings) and the raw little-endian tensor bytes.
``check_header`` validates all of it (size, bounds, dtypes, offsets, no gap or
overlap); ``read_tagged`` adds the pickle refusal, our format tag and the
content checksum recorded in the JSON companion (``weights_digest``);
``numpy_tensors`` gives the tensors as numpy arrays. Checkpoints
(``algos.checkpoint``, with torch) and the numpy team loader (``teams.numpy_act``)
share these checks.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import weights_digest as wd
from .json_safe import loads as json_loads

META_KEY = "macflow_arena"
MAX_HEADER = 32 * 1024 * 1024  # bytes; safetensors allows 100 MB, ours are a few KB
REFUSED_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".tar"}
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
                "U8": "u1", "BOOL": "?"}


class FramingError(ValueError):
    """A weights file's framing, tag or checksum is wrong; the message starts with the file's path."""


def _fail(path: Path, msg: str) -> NoReturn:
    raise FramingError(f"{path}: {msg}")


def check_header(path: Path, data: bytes) -> dict[str, Any]:
    """Validate the safetensors framing by hand; return the parsed header."""
    if len(data) < 8:
        _fail(path, f"file is {len(data)} bytes, too short for a safetensors header")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER:
        _fail(path, f"header of {n} bytes exceeds the {MAX_HEADER}-byte limit")
    if 8 + n > len(data):
        _fail(path, f"header ({n} bytes) runs past the end of the file ({len(data)} bytes)")
    try:
        header = json_loads(bytes(data[8 : 8 + n]), "safetensors header", max_bytes=MAX_HEADER)
    except ValueError as e:
        _fail(path, f"header is not valid JSON ({e})")
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object")
    body = len(data) - 8 - n
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                _fail(path, "__metadata__ must map strings to strings")
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            _fail(path, f"tensor {name!r}: malformed entry")
        dt, shape, off = info["dtype"], info["shape"], info["data_offsets"]
        if dt not in DTYPES:
            _fail(path, f"tensor {name!r}: unsupported dtype {dt!r}")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            _fail(path, f"tensor {name!r}: bad shape {shape!r}")
        if not (isinstance(off, list) and len(off) == 2 and all(isinstance(o, int) for o in off) and 0 <= off[0] <= off[1] <= body):
            _fail(path, f"tensor {name!r}: data offsets {off!r} outside the {body}-byte data section")
        if off[1] - off[0] != math.prod(shape) * DTYPES[dt]:
            _fail(path, f"tensor {name!r}: {off[1] - off[0]} bytes do not hold {dt} {shape}")
        spans.append((off[0], off[1], name))
    spans.sort()
    pos = 0
    for a, b, name in spans:
        if a != pos:
            _fail(path, f"tensor {name!r}: data section has a gap or overlap at byte {a}")
        pos = b
    if pos != body:
        _fail(path, f"data section has {body - pos} trailing bytes")
    return header


def read_tagged(path: str | os.PathLike, fmt: str, version: int, what: str, *, companion: Path | None = None,
                fix: str = "") -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(metadata, header, file bytes) of a safetensors file whose header metadata says ``format: fmt``:
    pickles refused unread, framing checked, then (with ``companion``, the JSON that records the
    file's checksum) the content checksum."""
    path = Path(path)
    if path.suffix.lower() in REFUSED_SUFFIXES:
        _fail(path, f"{path.suffix} files are pickled and can run code when loaded; they are never loaded. Use a .safetensors {what}")
    try:
        data = path.read_bytes()
    except OSError as e:
        _fail(path, f"cannot read ({e.strerror or e})")
    try:
        header = check_header(path, data)
    except FramingError:
        if (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or data[:4] == b"PK\x03\x04":
            _fail(path, f"this is a pickled (torch.save) file, which can run code when loaded; it is refused unread. Use a .safetensors {what}")
        raise
    raw = header.get("__metadata__", {}).get(META_KEY)
    if raw is None:
        _fail(path, f"not a macflow-arena {what} (no metadata in the header)")
    try:
        meta = json_loads(raw, f"{what} metadata")
    except ValueError as e:
        _fail(path, f"{what} metadata is not valid JSON ({e})")
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        _fail(path, f"not a macflow-arena {what} (unknown format)")
    if meta.get("format_version") != version:
        _fail(path, f"{what} format version {meta.get('format_version')!r}; this release reads version {version}")
    if companion is not None:
        try:
            wd.check(path, data, wd.read_record(companion), companion, fix)
        except wd.WeightsChecksumError as e:
            raise FramingError(str(e)) from None
    return meta, header, data


def numpy_tensors(path: Path, header: dict[str, Any], data: bytes) -> dict[str, np.ndarray]:
    """Every tensor of a checked file (``check_header``) as a read-only numpy array (a view of ``data``)."""
    base = 8 + int.from_bytes(data[:8], "little")
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = NUMPY_DTYPES.get(info["dtype"])
        if dt is None:
            _fail(path, f"tensor {name!r}: dtype {info['dtype']} cannot be read without torch")
        a, _ = info["data_offsets"]
        count = math.prod(info["shape"])
        out[name] = np.frombuffer(data, dtype=dt, count=count, offset=base + a).reshape(info["shape"])
    return out
