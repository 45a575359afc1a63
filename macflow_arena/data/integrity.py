"""verify and repair: find every way a dataset folder can be damaged, and fix what can be fixed.

``verify(path)`` reports each problem with its specific error class (see
``errors.py``); it never changes anything and never blocks. While a recorder
holds the dataset's lock it checks only what is committed (the shard being
written and the line being appended are not problems) and says so.

``repair(path)`` (holding the writer lock) never deletes data:

* a damaged manifest header is rebuilt from the newest shard's header copy;
* a shard whose manifest line is missing, altered, torn or duplicated, but
  whose bytes are whole and self-consistent, gets its line rebuilt from the
  shard itself (``repair_rebuild``);
* what cannot be read (a truncated or altered shard, a temp file of an
  interrupted write, a stray file) is moved to ``quarantine/``, as is a copy
  of the manifest before it is rewritten (atomically).

Afterwards ``verify`` passes. The report lists every episode that left the
dataset (only those of unreadable shards).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetError, DatasetLockedError, ManifestError, UnlistedFileError
from .fsio import FileLock, is_temp_name, read_regular
from .manifest import MANIFEST, MAX_MANIFEST_BYTES, Manifest, encode_line, read_manifest, rewrite_manifest
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
    live_writer: str | None = None  # pid of a recorder holding the lock while we verified

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_first(self) -> None:
        if self.problems:
            raise self.problems[0]

    def __str__(self) -> str:
        live = f"a recorder is writing (pid {self.live_writer}); " if self.live_writer else ""
        if self.ok:
            what = "committed episodes" if live else "episodes"
            return f"{self.path}: OK ({live}{self.shards} shards, {self.episodes} {what} verified)"
        lines = [f"{self.path}: {len(self.problems)} problem(s)" + (f" ({live.rstrip('; ')})" if live else "")]
        lines += [f"  [{p.code}] {p}" for p in self.problems]
        return "\n".join(lines)


def writer_pid(path: Path) -> str | None:
    """The pid of the process holding the dataset's lock (a recorder), or None. Takes no lock itself."""
    import fcntl

    lock = Path(path) / LOCK
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return FileLock(lock).holder()
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _check(path: Path, deep: bool, live: bool = False):
    """(manifest, report, bad shard entries, unlisted file names). ``live``: a writer holds the lock."""
    m = read_manifest(path, strict=False)
    problems = list(m.problems)
    if live:  # the line being appended is not a problem yet
        from .errors import TornManifestError

        problems = [p for p in problems if not isinstance(p, TornManifestError)]
    report = Report(path, problems=problems)
    layout = layout_from_header(m.header)
    agents = list(m.header["agents"])
    bad = []
    for entry in m.shards:
        try:
            arrays = load_shard(path, entry, layout, agents, check=deep)
            if deep:
                from .trainable import check_trainable

                check_trainable(arrays, layout, agents, str(path / entry.name))
        except DatasetError as e:
            report.problems.append(e)
            bad.append(entry)
            continue
        report.shards += 1
        report.episodes += len(entry.episodes)
    listed = {e.name for e in m.shards}
    unlisted = []
    for p in sorted(path.iterdir()):
        if live or p.name in (MANIFEST, LOCK):
            continue
        if is_temp_name(p.name):
            report.problems.append(UnlistedFileError(f"{p}: temp file of an interrupted write; run repair"))
            unlisted.append(p.name)
        elif shard_seq(p.name) is not None and p.name not in listed:
            report.problems.append(UnlistedFileError(
                f"{p}: shard file that no manifest line commits (an interrupted commit, or a lost line); run repair"))
            unlisted.append(p.name)
    return m, report, bad, unlisted


def verify(path: str | os.PathLike, deep: bool = True) -> Report:
    """Check the manifest, every listed shard (size, sha256, arrays, values and what training needs when
    ``deep``) and stray files (not while a recorder is writing)."""
    path = resolve_dataset(path)
    pid = writer_pid(path)
    try:
        report = _check(path, deep, live=pid is not None)[1]
    except DatasetError as e:  # the header itself is unreadable, or the folder is not a dataset
        report = Report(path, problems=[e])
    report.live_writer = pid
    return report


def _rebuild_header(path: Path, actions: list[str], dry_run: bool) -> None:
    """A header line from the newest shard's copy, in place of an unreadable one."""
    from .repair_rebuild import header_copy, keep_copy

    try:
        read_manifest(path, strict=False)
        return
    except ManifestError as e:
        problem = e
    header, source = header_copy(path)
    if header is None:
        raise ManifestError(f"{problem}; no shard holds a readable header copy, so the header cannot be rebuilt "
                            "(restore manifest.jsonl from a backup)") from None
    raw = bytes(read_regular(path / MANIFEST, MAX_MANIFEST_BYTES))
    lines = raw.split(b"\n")[1:-1]  # keep every complete line after the damaged header
    actions.append(f"rebuild the manifest header from {source}'s copy ({problem})")
    if dry_run:
        return
    actions.append(f"keep the old manifest as {keep_copy(path, MANIFEST, raw)}")
    body = {k: v for k, v in header.items() if k != "check"}
    rewrite_manifest(path, [encode_line(body)] + [ln + b"\n" for ln in lines])


def repair(path: str | os.PathLike, dry_run: bool = False) -> list[str]:
    """Make ``verify`` pass without deleting data (see the module doc). Returns the actions taken."""
    from .repair_rebuild import keep_copy, quarantine, rebuild_record

    path = resolve_dataset(path)
    lock = FileLock(path / LOCK)
    if not dry_run and not lock.acquire():
        raise DatasetLockedError(f"{path} is being written by another process (pid {lock.holder()}); stop it first")
    try:
        pid = writer_pid(path) if dry_run else None
        if pid is not None:
            report = verify(path)
            return [f"nothing now: a recorder is writing (pid {pid}); {report.episodes} committed episodes verified, "
                    f"{len(report.problems)} problem(s) in committed data"]
        actions: list[str] = []
        _rebuild_header(path, actions, dry_run)
        if dry_run and actions:
            return actions
        m, report, bad, unlisted = _check(path, deep=True)
        keep = _kept_lines(m, bad)
        for e in bad:
            actions.append(f"quarantine {e.name} (episodes {e.episodes[0]}..{e.episodes[-1]} are unreadable) "
                           f"and drop its manifest line {e.line}")
        for p in m.problems:
            actions.append(f"drop manifest record: {p}")
        taken = {eid for s in m.shards if s not in bad for eid in s.episodes}
        names = {s.name for s in m.shards}
        rebuilt, move = [], [e.name for e in bad]
        for name in unlisted:
            if shard_seq(name) is None:
                move.append(name)
                actions.append(f"quarantine {name} (a temp file of an interrupted write)")
                continue
            try:
                rec = rebuild_record(path, name, m.header)
                dup = sorted(set(rec["episodes"]) & taken)
                if dup or name in names:
                    raise DatasetError(f"episode ids {dup[:5]} are already committed by other shards")
            except DatasetError as e:
                move.append(name)
                actions.append(f"quarantine {name} (not committed, and it cannot be rebuilt: {e})")
                continue
            taken.update(rec["episodes"])
            rebuilt.append(rec)
            actions.append(f"rebuild the manifest line of {name} from the shard "
                           f"(episodes {rec['episodes'][0]}..{rec['episodes'][-1]})")
        if dry_run:
            return actions
        current = bytes(read_regular(path / MANIFEST, MAX_MANIFEST_BYTES))
        new = _ordered(keep, rebuilt)
        if b"".join(new) != current:
            keep_copy(path, MANIFEST, current)
            rewrite_manifest(path, new)
        for name in move:
            if (path / name).exists():
                quarantine(path, name)
        return actions
    finally:
        lock.release()


def _kept_lines(m: Manifest, bad) -> list[bytes]:
    bad_raw = {e.raw for e in bad}
    return [line for line in m.good_lines if line not in bad_raw]


def _ordered(keep: list[bytes], rebuilt: list[dict]) -> list[bytes]:
    """Header, shard lines in shard order (kept and rebuilt), then metadata lines in their order."""
    import json

    head, shards, metas = keep[0], [], []
    for line in keep[1:]:
        obj = json.loads(line)
        (shards if obj.get("kind") == "shard" else metas).append((obj.get("name", ""), line))
    shards += [(r["name"], encode_line(r)) for r in rebuilt]
    shards.sort(key=lambda t: (shard_seq(t[0]) if shard_seq(t[0]) is not None else -1, t[0]))
    return [head] + [ln for _, ln in shards] + [ln for _, ln in metas]
