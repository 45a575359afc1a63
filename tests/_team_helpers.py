"""Tiny runs and teams for the team tests (a few updates each; small or tiny networks).

Import only after ``pytest.importorskip("torch")``. ``team_home`` makes a
``$MACFLOW_ARENA_HOME`` with runs under ``runs/`` and teams under ``teams/``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from _train_helpers import TINY, record_tiny, tiny_config

torch.set_num_threads(1)


@contextmanager
def team_home(root: Path):
    """``$MACFLOW_ARENA_HOME`` = ``root`` for the duration (module-scoped fixtures use it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MACFLOW_ARENA_HOME", str(root))
        yield Path(root)


def make_run(home: Path, env_id: str = "particle/spread", algo: str = "macflow", seed: int = 0, steps: int = 2,
             tiny: bool = True, episodes: int = 8, **overrides) -> Path:
    """Train ``steps`` updates into ``home/runs/<env>-<algo>-s<seed>[-small]`` (cached by folder)."""
    ds = record_tiny(home / "data", env_id, episodes=episodes)
    name = f"{env_id.replace('/', '-')}-{algo}-s{seed}" + ("" if tiny else "-small")
    out = home / "runs" / name
    if not (out / "checkpoints").is_dir():
        from macflow_arena.train.trainer import train

        ov = {**(TINY if tiny else {}), **overrides}
        train(tiny_config(ds, out, env_id=env_id, algo=algo, steps=steps, seed=seed, ckpt_every=steps, overrides=ov),
              log=None)
    return out


def make_team(runs, name: str, episodes: int = 2, **kw) -> Path:
    from macflow_arena.teams import export_team

    dest = Path(os.environ["MACFLOW_ARENA_HOME"]) / "teams" / name
    if dest.is_dir() and not kw.get("overwrite") and kw.get("out_dir") is None:
        return dest
    return export_team(list(runs), name, episodes=episodes, device="cpu", **kw)
