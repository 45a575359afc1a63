"""verify and repair: find every way a dataset folder can be damaged, and fix what can be fixed.

``verify(path)`` reports each problem with its specific error class (see
``errors.py``); it never changes anything and never blocks. ``repair(path)``
(holding the writer lock) removes temp files and unlisted shards, drops bad,
torn and duplicated manifest lines and the lines of missing or damaged shards
(deleting those shard files), rewrites the manifest atomically, and returns
what it did, so that ``verify`` then passes. Episodes in dropped shards are
lost; the report lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetError, DatasetLockedError, UnlistedFileError
from .fsio import FileLock, fsync_dir, is_temp_name, read_regular
from .manifest import MANIFEST, MAX_MANIFEST_BYTES, read_manifest, rewrite_manifest
from .paths import resolve_dataset
from .schema import layout_from_header
from .shards import load_shard, shard_seq
from .writer import LOCK


@dataclass
class Report:
    path: Path
    problems: list[DatasetError] = field(default_factory=list)
    episodes: int = 0
    shards: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_first(self) -> None:
        if self.problems:
            raise self.problems[0]

    def __str__(self) -> str:
        if self.ok:
            return f"{self.path}: OK ({self.shards} shards, {self.episodes} episodes verified)"
        lines = [f"{self.path}: {len(self.problems)} problem(s)"]
        lines += [f"  [{p.code}] {p}" for p in self.problems]
        return "\n".join(lines)


def _check(path: Path, deep: bool):
    """(manifest, report, bad shard entries, unlisted file names)."""
    m = read_manifest(path, strict=False)
    report = Report(path, problems=list(m.problems))
    layout = layout_from_header(m.header)
    agents = list(m.header["agents"])
    bad = []
    for entry in m.shards:
        try:
            load_shard(path, entry, layout, agents, check=deep)
        except DatasetError as e:
            report.problems.append(e)
            bad.append(entry)
            continue
        report.shards += 1
        report.episodes += len(entry.episodes)
    listed = {e.name for e in m.shards}
    unlisted = []
    for p in sorted(path.iterdir()):
        if is_temp_name(p.name):
            report.problems.append(UnlistedFileError(f"{p}: temp file of an interrupted write; run repair"))
            unlisted.append(p.name)
        elif shard_seq(p.name) is not None and p.name not in listed:
            report.problems.append(UnlistedFileError(
                f"{p}: shard file that no manifest line commits (an interrupted commit); run repair"))
            unlisted.append(p.name)
    return m, report, bad, unlisted


def verify(path: str | os.PathLike, deep: bool = True) -> Report:
    """Check the manifest, every listed shard (size, sha256, arrays, values when ``deep``) and stray files."""
    path = resolve_dataset(path)
    try:
        return _check(path, deep)[1]
    except DatasetError as e:  # the header itself is unreadable, or the folder is not a dataset
        return Report(path, problems=[e])


def repair(path: str | os.PathLike, dry_run: bool = False) -> list[str]:
    """Make ``verify`` pass by removing what is not committed or not intact. Returns the actions taken."""
    path = resolve_dataset(path)
    lock = FileLock(path / LOCK)
    if not dry_run and not lock.acquire():
        raise DatasetLockedError(f"{path} is being written by another process (pid {lock.holder()}); stop it first")
    try:
        m, report, bad, unlisted = _check(path, deep=True)
        actions = []
        bad_raw = {e.raw for e in bad}
        keep = [line for line in m.good_lines if line not in bad_raw]
        for e in bad:
            actions.append(f"drop manifest line {e.line} ({e.name}: episodes {e.episodes[0]}..{e.episodes[-1]}) and delete the shard")
        for p in m.problems:
            actions.append(f"drop manifest record: {p}")
        current = bytes(read_regular(path / MANIFEST, MAX_MANIFEST_BYTES))
        rewrite = b"".join(keep) != current
        for name in unlisted:
            actions.append(f"delete {name} (not committed)")
        if dry_run:
            return actions
        if rewrite:
            rewrite_manifest(path, keep)
        for e in bad:
            try:
                (path / e.name).unlink()
            except FileNotFoundError:
                pass
        for name in unlisted:
            try:
                (path / name).unlink()
            except FileNotFoundError:
                pass
        if bad or unlisted:
            fsync_dir(path)
        return actions
    finally:
        lock.release()
