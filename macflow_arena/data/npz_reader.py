"""Read a shard's ``.npz`` with every size declared before any byte is allocated.

``np.load`` trusts each member's ``.npy`` header: a header declaring 10^10
rows makes it allocate 1.5 TiB, and a deflated member expands without limit
before anything is checked. ``read_npz`` parses each header first, checks the
declared row count against what the manifest (or the shard's own
``episode_id``/``steps``) says, caps the total decoded size at the file size
plus ``MAX_EXTRA_DECODED`` (our shards are stored uncompressed: decoded size =
file size), refuses object dtypes (pickles), and then reads exactly the
declared bytes, never more.
"""

from __future__ import annotations

import io
import math
import zipfile
from typing import Callable

import numpy as np

from .errors import ShardContentError

MAX_EXTRA_DECODED = 256 * 1024 * 1024  # bytes a compressed member may decode to beyond the file's size
MAX_NPY_HEADER = 64 * 1024

# (member name, arrays read so far) -> the row count it must declare, or None (not known yet)
RowsFor = Callable[[str, dict], "int | None"]


def _read_header(f, where: str, key: str):
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_NPY_HEADER)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_NPY_HEADER)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, EOFError, OSError, SyntaxError) as e:
        raise ShardContentError(f"{where}: field {key!r} has an unreadable array header ({e})") from None
    if dtype.hasobject:
        raise ShardContentError(f"{where}: field {key!r} holds Python objects (a pickle); refused unread")
    return shape, fortran, dtype


def read_npz(data: bytes | bytearray, where: str, rows_for: RowsFor | None = None,
             order: Callable[[str], object] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` held in ``data`` (``ShardContentError`` on any problem, before allocating)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ShardContentError(f"{where}: not a readable shard ({type(e).__name__}: {e})") from None
    budget = len(data) + MAX_EXTRA_DECODED
    members = []
    for info in infos:
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ShardContentError(f"{where}: unexpected member {info.filename!r} in the shard")
        members.append((info.filename[:-4], info))
    if order is not None:
        members.sort(key=lambda m: order(m[0]))
    out: dict[str, np.ndarray] = {}
    try:
        for key, info in members:
            if key in out:
                raise ShardContentError(f"{where}: field {key!r} appears twice")
            with zf.open(info) as f:
                shape, fortran, dtype = _read_header(f, where, key)
                want = rows_for(key, out) if rows_for is not None else None
                if want is not None and (len(shape) == 0 or shape[0] != want):
                    got = shape[0] if shape else "no"
                    raise ShardContentError(f"{where}: field {key!r} declares {got} rows, the manifest's step "
                                            f"counts give {want}; refused before reading")
                nbytes = math.prod(shape) * dtype.itemsize
                head = f.tell() if f.seekable() else None
                if nbytes > budget:
                    raise ShardContentError(f"{where}: field {key!r} declares {nbytes:,} bytes, more than the shard "
                                            f"can hold ({budget:,}); refused before reading")
                if head is not None and info.file_size != head + nbytes:
                    raise ShardContentError(f"{where}: field {key!r}: the member's size ({info.file_size:,} bytes) "
                                            f"does not match its array header ({head + nbytes:,})")
                budget -= nbytes
                buf = bytearray(nbytes)
                view, got = memoryview(buf), 0
                while got < nbytes:
                    n = f.readinto(view[got:])
                    if not n:
                        break
                    got += n
                if got != nbytes or f.read(1):
                    raise ShardContentError(f"{where}: field {key!r} holds {'fewer' if got != nbytes else 'more'} "
                                            f"bytes than its header declares")
            arr = np.frombuffer(buf, dtype=dtype)
            out[key] = arr.reshape(shape[::-1]).transpose() if fortran else arr.reshape(shape)
    except ShardContentError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise ShardContentError(f"{where}: not a readable shard ({type(e).__name__}: {e})") from None
    finally:
        zf.close()
    return out
