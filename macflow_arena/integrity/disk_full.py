"""A full disk as one line: what was kept, how much space is needed, how to continue.

``record``, ``train`` and ``team export`` catch ``OSError`` with ``ENOSPC`` (or
``EDQUOT``) and raise ``DiskFullError`` (a ``CommandError``) with these
messages; ``cli.main`` turns any other ENOSPC into one line as well. Nothing
committed is lost (see RELIABILITY.md): a recording keeps its committed
episodes, a run its last checkpoint.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from ..commands import CommandError

FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(CommandError):
    """The disk filled up; the message says what was kept and how to continue."""


def is_disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in FULL


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _free(path: Path) -> str:
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return _mb(shutil.disk_usage(p).free)
    except OSError:
        return "unknown"


def recording(path: str | os.PathLike, env_id: str) -> DiskFullError:
    """ENOSPC while recording into ``path``."""
    path = Path(path)
    kept, per_shard = 0, 0.0
    try:
        from ..data.loader import Dataset

        ds = Dataset(path)
        kept = ds.num_episodes
        per_shard = max((s.bytes for s in ds.shards), default=0)
    except Exception:  # noqa: BLE001 - the message must not fail
        pass
    need = f"about {_mb(per_shard * 2)}" if per_shard else "room for at least one more shard"
    return DiskFullError(
        f"disk full while recording {path}: {kept} committed episodes are kept (the unfinished shard is not); "
        f"{need} of free space is needed (free now: {_free(path)}); free space, then continue with "
        f"`macflow-arena record {env_id} --out {path} --append`")


def training(run_dir: str | os.PathLike | None) -> DiskFullError:
    """ENOSPC while training into ``run_dir``."""
    from ..train.trainer import checkpoints

    run = Path(run_dir) if run_dir else None
    found = checkpoints(run) if run is not None else []
    if found:
        step, last = found[-1]
        size = last.stat().st_size
        kept = f"the last checkpoint ({last.name}, step {step}) is kept"
        need = f"about {_mb(size * 2)}"
    else:
        kept, need = "no checkpoint was written yet", "room for one checkpoint"
    return DiskFullError(
        f"disk full while training {run}: {kept}; {need} of free space is needed (free now: "
        f"{_free(run or Path('.'))}); free space, then continue with `macflow-arena train --resume {run}`")


def exporting(dest: str | os.PathLike | None, needed: int | None = None) -> DiskFullError:
    """ENOSPC while writing a team folder."""
    where = Path(dest) if dest else Path(".")
    need = f"about {_mb(needed)}" if needed else "a few MB"
    return DiskFullError(
        f"disk full while exporting the team to {dest or 'the teams folder'}: nothing was written (an existing "
        f"team is unchanged); {need} of free space is needed (free now: {_free(where)}); free space and run "
        f"the same `macflow-arena team export` again")


def generic(command: str, e: OSError) -> str:
    return (f"macflow-arena {command}: error: disk full ({e.strerror or e}{': ' + str(e.filename) if e.filename else ''}); "
            f"free space and run it again (committed data and checkpoints are kept)")
