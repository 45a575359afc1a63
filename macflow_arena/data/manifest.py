"""The append-only manifest: ``manifest.jsonl`` in the dataset folder.

Line 1 is the header (``"kind": "header"``); each later line is either a
committed shard (``"kind": "shard"``: name, sha256, bytes, episode ids, steps
per episode, episode returns, schema) or a metadata update (``"kind": "meta"``,
``"set": {...}`` merged over the header, e.g. reference returns measured
later). Every line carries ``"check"``: the first 16 hex digits of the sha256
of the line's canonical JSON without that key, so a flipped byte in the
manifest is caught too. A last line without its newline is an interrupted
commit: readers ignore it, ``verify`` reports it, ``repair`` removes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from .errors import DatasetNotFoundError, DuplicateEntryError, ManifestError, TornManifestError
from .fsio import append_durable, atomic_write, read_regular
from .schema import FORMAT, check_schema
from ..integrity import json_safe

MANIFEST = "manifest.jsonl"
MAX_MANIFEST_BYTES = 1 << 30
MAX_LINE_BYTES = 64 << 20


def _canonical(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def encode_line(obj: dict) -> bytes:
    body = {k: v for k, v in obj.items() if k != "check"}
    check = hashlib.sha256(_canonical(body).encode()).hexdigest()[:16]
    return (_canonical({**body, "check": check}) + "\n").encode()


def decode_line(raw: bytes, where: str) -> dict:
    try:
        obj = json_safe.loads(raw, where, max_bytes=MAX_LINE_BYTES)
    except (ValueError, UnicodeDecodeError) as e:
        raise ManifestError(f"{where}: not valid JSON ({e}); run `macflow-arena dataset repair`") from None
    if not isinstance(obj, dict) or "check" not in obj:
        raise ManifestError(f"{where}: not a manifest record (no checksum); run `macflow-arena dataset repair`")
    body = {k: v for k, v in obj.items() if k != "check"}
    if hashlib.sha256(_canonical(body).encode()).hexdigest()[:16] != obj["check"]:
        raise ManifestError(f"{where}: checksum mismatch (the line was altered); run `macflow-arena dataset repair`")
    return body


@dataclass
class ShardEntry:
    name: str
    sha256: str
    bytes: int
    episodes: list[int]
    steps: list[int]
    returns: list[float]
    schema: str
    line: int
    raw: bytes = b""

    def to_json(self) -> dict:
        return {"kind": "shard", "name": self.name, "sha256": self.sha256, "bytes": self.bytes,
                "episodes": self.episodes, "steps": self.steps, "returns": self.returns, "schema": self.schema}


@dataclass
class Manifest:
    """A parsed manifest. ``problems`` lists what a strict read would have raised."""

    path: Path
    header: dict
    shards: list[ShardEntry] = field(default_factory=list)
    problems: list[Exception] = field(default_factory=list)
    torn_tail: bool = False
    good_lines: list[bytes] = field(default_factory=list)
    sha256: str = ""  # of the complete lines read: the snapshot a reader loaded (what a run records)

    @property
    def episode_ids(self) -> list[int]:
        return [e for s in self.shards for e in s.episodes]


def _check_shard(obj: dict, where: str) -> None:
    need = {"name": str, "sha256": str, "bytes": int, "episodes": list, "steps": list, "returns": list, "schema": str}
    for k, t in need.items():
        if not isinstance(obj.get(k), t):
            raise ManifestError(f"{where}: shard record lacks a valid {k!r}")
    if not (len(obj["episodes"]) == len(obj["steps"]) == len(obj["returns"])) or not obj["episodes"]:
        raise ManifestError(f"{where}: shard record has mismatched episodes/steps/returns lists")
    name = obj["name"]
    if "/" in name or "\\" in name or name.startswith("."):
        raise ManifestError(f"{where}: shard name {name!r} is not a plain file name")


def read_manifest(folder: Path, *, strict: bool = True) -> Manifest:
    """Parse ``folder/manifest.jsonl``.

    ``strict`` raises the first problem (a bad line, a duplicate); otherwise
    problems are collected in ``Manifest.problems`` and bad lines skipped
    (what ``verify`` and ``repair`` use). An unreadable header always raises.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise DatasetNotFoundError(f"{folder} is not a dataset (no {MANIFEST})")
    raw = bytes(read_regular(path, MAX_MANIFEST_BYTES))
    lines = raw.split(b"\n")
    torn = lines[-1] != b""
    tail = lines[-1]
    lines = lines[:-1]
    if not lines:
        raise ManifestError(f"{path}: empty manifest (no header line)")
    header = decode_line(lines[0], f"{path} line 1 (header)")
    if header.get("kind") != "header" or header.get("format") != FORMAT:
        raise ManifestError(f"{path} line 1: not a {FORMAT} header")
    check_schema(header.get("schema"), str(folder))
    m = Manifest(path=path, header=dict(header), torn_tail=torn, good_lines=[lines[0] + b"\n"],
                 sha256=hashlib.sha256(raw[: len(raw) - len(tail)]).hexdigest())
    seen_lines: dict[bytes, int] = {}
    names: dict[str, int] = {}
    episodes: dict[int, int] = {}
    for i, line in enumerate(lines[1:], start=2):
        where = f"{path} line {i}"
        try:
            if line in seen_lines:
                raise DuplicateEntryError(f"{where} duplicates line {seen_lines[line]}; run `macflow-arena dataset repair`")
            obj = decode_line(line, where)
            kind = obj.get("kind")
            if kind == "meta":
                if not isinstance(obj.get("set"), dict):
                    raise ManifestError(f"{where}: meta record lacks 'set'")
                m.header.update(obj["set"])
            elif kind == "shard":
                _check_shard(obj, where)
                check_schema(obj["schema"], f"{folder} shard {obj['name']}")
                if obj["name"] in names:
                    raise DuplicateEntryError(
                        f"{where}: shard {obj['name']} is already committed at line {names[obj['name']]}"
                    )
                dup = [e for e in obj["episodes"] if e in episodes]
                if dup:
                    raise DuplicateEntryError(f"{where}: episode id(s) {dup[:5]} already committed at line {episodes[dup[0]]}")
                names[obj["name"]] = i
                for e in obj["episodes"]:
                    episodes[e] = i
                keys = ("name", "sha256", "bytes", "episodes", "steps", "returns", "schema")
                m.shards.append(ShardEntry(**{k: obj[k] for k in keys}, line=i, raw=line + b"\n"))
            elif kind == "header":
                raise DuplicateEntryError(f"{where}: a second header line; run `macflow-arena dataset repair`")
            else:
                raise ManifestError(f"{where}: unknown record kind {kind!r}")
        except ManifestError as e:
            if strict:
                raise
            m.problems.append(e)
            continue
        seen_lines[line] = i
        m.good_lines.append(line + b"\n")
    if torn and tail.strip():
        m.problems.append(TornManifestError(
            f"{path}: the last line is incomplete (an interrupted commit; its shard is not part of the dataset); "
            "run `macflow-arena dataset repair`"))
    return m


def create_manifest(folder: Path, header: dict) -> None:
    header = {**header, "kind": "header", "format": FORMAT}
    atomic_write(Path(folder), MANIFEST, encode_line(header))


def append_record(folder: Path, record: dict) -> None:
    append_durable(Path(folder) / MANIFEST, encode_line(record))


def rewrite_manifest(folder: Path, lines: list[bytes]) -> None:
    """Replace the manifest atomically (``repair`` only; normal commits append)."""
    atomic_write(Path(folder), MANIFEST, b"".join(lines), replace=True)


def cut_torn_tail(folder: Path) -> bool:
    """Drop an incomplete last line (an interrupted commit) before appending. True if cut."""
    import os

    path = Path(folder) / MANIFEST
    data = bytes(read_regular(path, MAX_MANIFEST_BYTES))
    if data.endswith(b"\n") or not data:
        return False
    keep = data.rfind(b"\n") + 1
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, keep)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True
