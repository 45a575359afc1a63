"""Side-by-side team videos: every team plays the same env on the same seeds, in lock step.

Each tile is one team's world, labelled with the team name and algorithm.
Episode k of every tile uses seed ``seed + k`` (env and team). Tiles step
together; a tile whose episode ended holds its last frame until every tile
has finished, then all start the next episode. An episode whose longest tile
lasts L steps gives L + 1 frames (the reset frame, then one per step).
Frames are written with ``video.write_frames`` (atomic, like every export).
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..video import VideoError, VideoResult, write_frames

BACKGROUND = 24  # grey of empty grid cells and the gaps between tiles
GAP = 4  # pixels between tiles


@dataclass
class CompareResult(VideoResult):
    labels: list[str] = field(default_factory=list)  # tile order, row by row
    team_returns: dict[str, list[float]] = field(default_factory=dict)  # label -> return of each episode


def grid(tiles: Sequence[np.ndarray], cols: int) -> np.ndarray:
    """Tiles (same shape) row by row into one frame, ``GAP`` pixels apart."""
    h, w = tiles[0].shape[:2]
    rows = math.ceil(len(tiles) / cols)
    out = np.full((rows * h + (rows - 1) * GAP, cols * w + (cols - 1) * GAP, 3), BACKGROUND, dtype=np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + GAP): r * (h + GAP) + h, c * (w + GAP): c * (w + GAP) + w] = t
    return out


def _session(env_id: str, team, seed: int, size: int):
    from ..policies import ScriptedPolicy
    from ..registry import make
    from ..play.seats import Seating
    from ..play.session import Session
    from .policy import TeamPolicy

    env = make(env_id, render_mode="rgb_array")
    try:
        policy = TeamPolicy(team, env, team.agents)
        groups = [(policy, tuple(team.agents))]
        kinds = dict.fromkeys(team.agents, policy.name)
        others = [a for a in env.possible_agents if a not in team.agents]
        if others:  # seats outside the team (none in the shipped scenarios) play scripted
            groups.append((ScriptedPolicy(env, seed=seed), tuple(others)))
            kinds.update(dict.fromkeys(others, "scripted"))
        return Session(env, Seating(groups=groups, kinds=kinds), seed=seed, size=size)
    except BaseException:
        env.close()
        raise


def _frames(sessions, labels, episodes: int, cols: int, returns: dict[str, list[float]]) -> Iterator[np.ndarray]:
    for k in range(episodes):
        for s in sessions:
            s.reset()
        huds = [[lab, f"episode {k + 1}/{episodes} seed {s.episode_seed}"] for lab, s in zip(labels, sessions)]
        tiles = [s.frame(h) for s, h in zip(sessions, huds)]
        yield grid(tiles, cols)
        while not all(s.done for s in sessions):
            for i, s in enumerate(sessions):
                if not s.done:
                    s.step()
                    tiles[i] = s.frame(huds[i])  # a finished tile keeps this last frame
            yield grid(tiles, cols)
        for lab, s in zip(labels, sessions):
            returns[lab].append(s.episode_return)


def compare_video(
    env_id: str,
    teams: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    *,
    episodes: int = 1,
    seed: int = 0,
    fps: int | None = None,
    size: int = 360,
    cols: int | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> CompareResult:
    """Render ``teams`` (names, team folders or run folders) side by side on ``env_id``."""
    from ..video import _check_suffix
    from .load import load_team

    out = Path(out_path)
    _check_suffix(out)
    if out.is_dir():
        raise VideoError(f"{out} is a folder; give a file name ending in .mp4 or .gif")
    if not teams:
        raise VideoError("give at least one team to compare")
    if episodes < 1:
        raise VideoError(f"episodes must be >= 1, got {episodes}")
    if size < 16:
        raise VideoError(f"size must be >= 16 pixels, got {size}")
    if fps is not None and fps < 1:
        raise VideoError(f"fps must be >= 1, got {fps}")
    if cols is not None and cols < 1:
        raise VideoError(f"cols must be >= 1, got {cols}")
    loaded = [load_team(t, device=device) for t in teams]
    raw = [t.label for t in loaded]
    # the same team twice (e.g. a run and its export) stays tellable apart: "#1", "#2" ...
    labels = [f"{lab} #{raw[:i].count(lab) + 1}" if raw.count(lab) > 1 else lab for i, lab in enumerate(raw)]
    cols = cols or math.ceil(math.sqrt(len(loaded)))
    sessions = []
    try:
        for team in loaded:
            sessions.append(_session(env_id, team, seed, size))
        fps = int(fps or sessions[0].env.metadata.get("render_fps", 10))
        returns: dict[str, list[float]] = {lab: [] for lab in labels}
        start = time.perf_counter()
        report = None
        if progress:
            def report(n: int) -> None:
                if n % 100 == 0:
                    print(f"compare {env_id}: {n} frames", file=sys.stderr)
        n, w, h = write_frames(_frames(sessions, labels, episodes, cols, returns), out, fps, report)
        wall = time.perf_counter() - start
        if progress:
            print(f"wrote {out} ({n} frames, {w}x{h}, {fps} fps) in {wall:.1f}s", file=sys.stderr)
        flat = [r for lab in labels for r in returns[lab]]
        return CompareResult(out, n, episodes, fps, w, h, flat, seed, wall, labels=labels, team_returns=returns)
    finally:
        for s in sessions:
            s.env.close()
