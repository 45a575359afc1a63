"""A run folder after a kill: stale temp files, and log lines past the step a resume starts from.

``clean_temp_files`` removes the ``.NAME.PID.tmp`` files of interrupted atomic
writes (``data.fsio.atomic_write``) in the run folder and ``checkpoints/``
whose writing process is gone. ``truncate_logs`` cuts ``metrics.jsonl`` and
``eval.jsonl`` back to the lines of steps up to the resumed checkpoint, so a
resumed run logs every step once. Both run when the trainer (re)starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..data.fsio import TEMP_SUFFIX, atomic_write, is_temp_name

LOGS = ("metrics.jsonl", "eval.jsonl")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_temp_files(run_dir: str | os.PathLike) -> list[str]:
    """Remove temp files of interrupted writes whose process is gone; returns their names."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if not is_temp_name(p.name) or not p.is_file():
                continue
            pid = p.name[: -len(TEMP_SUFFIX)].rsplit(".", 1)[-1]
            if pid.isdigit() and _pid_alive(int(pid)):
                continue  # a live writer's file
            p.unlink()
            removed.append(str(p.relative_to(run_dir)))
    return removed


def truncate_logs(run_dir: str | os.PathLike, step: int) -> dict[str, int]:
    """Drop log lines of steps after ``step`` (and unreadable ones); returns lines dropped per file."""
    out = {}
    for name in LOGS:
        path = Path(run_dir) / name
        if not path.is_file():
            continue
        keep, dropped = [], 0
        for line in path.read_bytes().splitlines(keepends=True):
            try:
                s = json.loads(line).get("step")
            except (ValueError, AttributeError, RecursionError):
                s = None
            if isinstance(s, int) and s <= step and line.endswith(b"\n"):
                keep.append(line)
            else:
                dropped += 1
        if dropped:
            atomic_write(Path(run_dir), name, b"".join(keep), replace=True)
        out[name] = dropped
    return out
