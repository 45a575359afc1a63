"""Render episodes to .mp4 (H.264) or .gif, headless, with the HUD burnt in.

Frames: every episode gives its reset state, then one frame per step, so an
episode of L steps is L + 1 frames. MP4 frames must have even sides for
yuv420p: an odd side is padded by one edge-replicated pixel at the right or
bottom (never rescaled: ``macro_block_size=1``). GIFs keep the exact size;
their frame delay is ``1000 / fps`` ms rounded to the 10 ms GIF resolution
(Pillow merges consecutive identical frames into one longer frame).

The file appears atomically: it is written to a temp file with the same
suffix in the target folder, then renamed over ``out_path``. On any failure
the temp file is removed and an existing file at ``out_path`` is untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from .play.input_state import InputState
from .play.kinds import KINDS
from .play.seats import SeatError, build_seating, parse_seats, seat_overrides, with_team
from .play.session import Session

SUFFIXES = (".mp4", ".gif")


class VideoError(ValueError):
    """Bad export arguments (suffix, sizes, counts) or inconsistent frames."""


@dataclass
class VideoResult:
    path: Path
    frames: int
    episodes: int
    fps: int
    width: int  # of the written frames (after padding)
    height: int
    returns: list[float] = field(default_factory=list)
    seed: int = 0
    wall_s: float = 0.0


def pad_even(frame: np.ndarray) -> np.ndarray:
    """``frame`` with odd height/width padded by one edge-replicated row/column."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def episode_frames(session: Session, episodes: int, returns: list[float] | None = None) -> Iterator[np.ndarray]:
    """Frames of ``episodes`` episodes: the reset state, then one per step."""
    for k in range(episodes):
        session.reset()
        hud = [f"episode {k + 1}/{episodes}  seed {session.episode_seed}"]
        hud += [p.label for p, _ in session.seating.groups if getattr(p, "label", None)]  # teams: name (algo)
        yield session.frame(hud)
        while not session.step():
            yield session.frame(hud)
        yield session.frame(hud)
        if returns is not None:
            returns.append(session.episode_return)


class _Mp4Writer:
    def __init__(self, path: str, fps: int):
        self.path, self.fps = path, fps
        self._gen = None
        self.size: tuple[int, int] | None = None

    def append(self, frame: np.ndarray) -> None:
        frame = pad_even(frame)
        h, w = frame.shape[:2]
        if self._gen is None:
            import imageio_ffmpeg

            self.size = (w, h)
            self._gen = imageio_ffmpeg.write_frames(
                self.path,
                (w, h),
                fps=self.fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                macro_block_size=1,  # sides are even already: never let ffmpeg rescale
                quality=None,
                output_params=["-crf", "20", "-preset", "veryfast"],
                ffmpeg_log_level="error",
            )
            self._gen.send(None)
        self._gen.send(np.ascontiguousarray(frame))

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()
            self._gen = None


class _GifWriter:
    """GIF through Pillow (imageio's GIF backend), each frame quantized as it arrives.

    Frames keep their own 256-colour palette (fast octree, no dithering): 2-3x
    faster than letting the encoder quantize, and a third of the memory.
    """

    def __init__(self, path: str, fps: int):
        self.path, self.fps = path, fps
        self._frames: list = []
        self.size: tuple[int, int] | None = None

    def append(self, frame: np.ndarray) -> None:
        from PIL import Image

        if self.size is None:
            self.size = (frame.shape[1], frame.shape[0])
        img = Image.fromarray(frame, "RGB")
        self._frames.append(img.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE))

    def close(self) -> None:
        if not self._frames:
            return
        first, rest = self._frames[0], self._frames[1:]
        self._frames = []
        duration = 10 * max(1, round(100 / self.fps))  # ms, in GIF's 10 ms steps
        first.save(self.path, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0)


def write_frames(frames: Iterable[np.ndarray], out_path: str | os.PathLike, fps: int, progress=None) -> tuple[int, int, int]:
    """Write ``frames`` atomically to ``out_path`` (.mp4 or .gif); returns (count, width, height)."""
    out = Path(out_path)
    suffix = _check_suffix(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(out, suffix)
    writer = _Mp4Writer(tmp, fps) if suffix == ".mp4" else _GifWriter(tmp, fps)
    n = 0
    try:
        shape = None
        for frame in frames:
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise VideoError(f"frames must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise VideoError(f"frame {n} has shape {frame.shape}, the first had {shape}")
            writer.append(frame)
            n += 1
            if progress is not None:
                progress(n)
        if n == 0:
            raise VideoError("no frames to write")
        writer.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    w, h = writer.size
    return n, w, h


def export_video(
    env_id: str,
    out_path: str | os.PathLike,
    *,
    episodes: int = 1,
    seats: Iterable[str] | Mapping[str, str] | None = None,
    seed: int = 0,
    fps: int | None = None,
    size: int = 600,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = False,
    team: str | None = None,
) -> VideoResult:
    """Render ``episodes`` episodes of ``env_id`` to ``out_path`` (.mp4 or .gif); never opens a window.

    ``seats`` as in ``play`` (default: every seat scripted; human kinds are
    refused); ``team`` (a team name or folder) plays every seat ``seats`` does
    not name. Episode k uses seed ``seed + k``. ``fps`` defaults to the env's
    ``render_fps``; ``size`` is the frame side in pixels.
    """
    from .registry import make

    out = Path(out_path)
    _check_suffix(out)
    if out.is_dir():
        raise VideoError(f"{out} is a folder; give a file name ending in {' or '.join(SUFFIXES)}")
    if episodes < 1:
        raise VideoError(f"episodes must be >= 1, got {episodes}")
    if size < 16:
        raise VideoError(f"size must be >= 16 pixels, got {size}")
    if fps is not None and fps < 1:
        raise VideoError(f"fps must be >= 1, got {fps}")
    specs = parse_seats(seats)
    if team is not None:
        specs = with_team(specs, team)
    humans = [s.seat for s in specs.values() if KINDS[s.kind].human]
    if humans:
        raise SeatError(f"video export has no human input: seat(s) {', '.join(humans)} need a policy kind")
    env_overrides = dict(overrides or {})
    env_overrides.update(seat_overrides(env_id, specs, env_overrides))
    env = make(env_id, render_mode="rgb_array", **env_overrides)
    try:
        seating = build_seating(env, specs, InputState(), seed)
        session = Session(env, seating, seed=seed, size=size)
        fps = int(fps or env.metadata.get("render_fps", 10))
        returns: list[float] = []
        start = time.perf_counter()
        report = _progress(episodes, env.metadata.get("name", env_id)) if progress else None
        n, w, h = write_frames(episode_frames(session, episodes, returns), out, fps, report)
        wall = time.perf_counter() - start
        if progress:
            print(f"wrote {out} ({n} frames, {w}x{h}, {fps} fps) in {wall:.1f}s", file=sys.stderr)
        return VideoResult(out, n, episodes, fps, w, h, returns, session.seed, wall)
    finally:
        env.close()


def _check_suffix(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise VideoError(f"unsupported video file {str(out)!r}: the name must end in {' or '.join(SUFFIXES)}")
    return suffix


def _create_temp(out: Path, suffix: str) -> str:
    """A new empty file next to ``out``, ending in ``suffix`` (mode from the umask, unlike mkstemp)."""
    for _ in range(100):
        tmp = out.parent / f".{out.stem}.{secrets.token_hex(4)}.tmp{suffix}"
        try:
            with open(tmp, "xb"):
                return str(tmp)
        except FileExistsError:  # pragma: no cover
            continue
    raise FileExistsError(f"could not create a temp file next to {out}")  # pragma: no cover


def _progress(episodes: int, name: str):
    def report(n: int) -> None:
        if n % 100 == 0:
            print(f"{name}: {n} frames ({episodes} episode(s))", file=sys.stderr)

    return report


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
