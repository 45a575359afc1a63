"""JSON from untrusted files, parsed only after a size and nesting-depth check.

``json.loads`` recurses once per nesting level: 1,000 ``[`` raise
``RecursionError`` (not a ``ValueError``), which escapes every ``except
ValueError`` around it. ``loads`` scans the text first (outside strings) and
refuses documents nested deeper than ``MAX_DEPTH`` or larger than ``max_bytes``
with ``JsonLimitError``, a ``ValueError`` naming the place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_DEPTH = 64  # our files nest at most ~6 levels
MAX_BYTES = 64 * 1024 * 1024


class JsonLimitError(ValueError):
    """A JSON document is too deep or too large to parse safely."""


def nesting_depth(text: str | bytes) -> int:
    """Maximum bracket depth of a JSON text, ignoring brackets inside strings."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", errors="replace")
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "]}":
            depth -= 1
    return best


def _quick_depth_ok(text: str, max_depth: int) -> bool:
    # a text with few brackets cannot be deep: skip the character scan
    return text.count("[") + text.count("{") <= max_depth


def loads(text: str | bytes | bytearray, where: str = "JSON", *, max_depth: int = MAX_DEPTH,
          max_bytes: int = MAX_BYTES) -> Any:
    """``json.loads`` after the limits; ``JsonLimitError`` (a ValueError) names ``where``."""
    if len(text) > max_bytes:
        raise JsonLimitError(f"{where}: {len(text)} bytes is more than the {max_bytes}-byte limit for this file")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonLimitError(f"{where}: not UTF-8 text ({e})") from None
    if not _quick_depth_ok(text, max_depth):
        depth = nesting_depth(text)
        if depth > max_depth:
            raise JsonLimitError(f"{where}: JSON nested {depth} levels deep (limit {max_depth}); "
                                 "the file is not one this program writes")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the scan above bounds the depth
        raise JsonLimitError(f"{where}: JSON nested too deeply") from None


def load_file(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file with the limits (size checked before reading)."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise JsonLimitError(f"{path}: {size} bytes is more than the {max_bytes}-byte limit for this file")
    return loads(path.read_bytes(), str(path), max_depth=max_depth, max_bytes=max_bytes)
