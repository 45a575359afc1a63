"""Video export: frame counts, fps, odd sizes, GIFs, and atomic writes under failure."""

from __future__ import annotations

import gc
import warnings

import imageio.v3 as iio
import numpy as np
import pytest

from macflow_arena import video
from macflow_arena.play import SeatError
from macflow_arena.video import VideoError, export_video, pad_even

SHORT = {"max_cycles": 5}


def _read_mp4(path):
    """Frames and fps through imageio's ffmpeg plugin.

    imageio-ffmpeg leaves ffmpeg's pipes open when it reads to the end of a
    file; the ResourceWarning that causes is silenced here, and only here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        frames = np.stack(list(iio.imiter(path, plugin="FFMPEG")))
        fps = iio.immeta(path, plugin="FFMPEG")["fps"]
        gc.collect()
    return frames, fps


def _mp4_frames(path):
    return _read_mp4(path)[0]


def _mp4_fps(path):
    return _read_mp4(path)[1]


def test_mp4_frame_count_size_and_fps(tmp_path):
    out = tmp_path / "spread.mp4"
    r = export_video("particle/spread", out, episodes=2, seed=1, size=64, overrides=SHORT)
    frames = _mp4_frames(out)
    assert r.frames == len(frames) == 2 * (5 + 1)  # reset frame + one per step, per episode
    assert frames[0].shape == (64, 64, 3)
    assert _mp4_fps(out) == pytest.approx(10)  # the env's render_fps
    assert len(r.returns) == 2 and (r.width, r.height) == (64, 64)
    assert [p.name for p in tmp_path.iterdir()] == ["spread.mp4"]  # no temp file left


def test_mp4_fps_option(tmp_path):
    out = tmp_path / "fast.mp4"
    export_video("particle/tag", out, seed=0, size=64, fps=25, overrides=SHORT)
    assert _mp4_fps(out) == pytest.approx(25)
    assert len(_mp4_frames(out)) == 6


def test_gif(tmp_path):
    out = tmp_path / "tag.gif"
    r = export_video("particle/tag", out, seed=0, size=48, overrides=SHORT)
    frames = iio.imread(out, index=None)
    assert r.frames == frames.shape[0] == 6
    assert frames.shape[1:3] == (48, 48)
    assert iio.immeta(out)["duration"] == 100  # ms, from 10 fps


def test_seats_and_tag_prey(tmp_path):
    r = export_video("particle/tag", tmp_path / "prey.mp4", seats=["prey_0=random"], size=32, overrides=SHORT)
    assert r.frames == 6
    with pytest.raises(SeatError, match="no human input"):
        export_video("particle/tag", tmp_path / "x.mp4", seats=["prey_0=keyboard"], size=32)


def test_pad_even():
    f = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    p = pad_even(f)
    assert p.shape == (4, 6, 3)
    np.testing.assert_array_equal(p[:3, :5], f)
    np.testing.assert_array_equal(p[3, :5], f[2])  # edge-replicated
    even = np.zeros((4, 6, 3), np.uint8)
    assert pad_even(even) is even


def _odd_frames(session, episodes, returns=None):
    for i in range(4):
        yield np.full((75, 101, 3), 40 * i, np.uint8)


def test_odd_frame_sides_are_padded_in_mp4_and_kept_in_gif(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "episode_frames", _odd_frames)
    r = export_video("particle/spread", tmp_path / "odd.mp4", size=64)
    frames = _mp4_frames(tmp_path / "odd.mp4")
    assert len(frames) == 4 and frames[0].shape == (76, 102, 3)  # padded, never rescaled
    assert (r.width, r.height) == (102, 76)
    export_video("particle/spread", tmp_path / "odd.gif", size=64)
    assert iio.imread(tmp_path / "odd.gif", index=None).shape[1:3] == (75, 101)


def test_odd_size_argument_gives_even_frames(tmp_path):
    r = export_video("particle/spread", tmp_path / "s.mp4", size=65, overrides={"max_cycles": 1})
    assert (r.width, r.height) == (66, 66)  # the drawer rounds sides up to even


def _failing_frames(session, episodes, returns=None):
    for i in range(3):
        yield np.zeros((32, 32, 3), np.uint8)
    raise RuntimeError("renderer crashed")


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_failed_export_leaves_nothing_at_the_target(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(video, "episode_frames", _failing_frames)
    out = tmp_path / f"v{suffix}"
    with pytest.raises(RuntimeError, match="renderer crashed"):
        export_video("particle/spread", out, size=32)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_failed_export_keeps_an_existing_file(tmp_path, monkeypatch, suffix):
    out = tmp_path / f"v{suffix}"
    out.write_bytes(b"the previous video")
    monkeypatch.setattr(video, "episode_frames", _failing_frames)
    with pytest.raises(RuntimeError):
        export_video("particle/spread", out, size=32)
    assert out.read_bytes() == b"the previous video"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_successful_export_replaces_an_existing_file(tmp_path):
    out = tmp_path / "v.mp4"
    out.write_bytes(b"old")
    export_video("particle/spread", out, size=32, overrides={"max_cycles": 2})
    assert len(_mp4_frames(out)) == 3


def test_unknown_suffix_fails_before_rendering(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("rendered before checking the suffix")

    monkeypatch.setattr(video, "episode_frames", boom)
    monkeypatch.setattr("macflow_arena.registry.make", boom)
    with pytest.raises(VideoError, match=r"\.mp4 or \.gif"):
        export_video("particle/spread", tmp_path / "v.avi")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kw, match", [({"episodes": 0}, "episodes"), ({"size": 4}, "size"), ({"fps": 0}, "fps")])
def test_bad_arguments(tmp_path, kw, match):
    with pytest.raises(VideoError, match=match):
        export_video("particle/spread", tmp_path / "v.mp4", **kw)


def test_inconsistent_frame_sizes_are_refused(tmp_path, monkeypatch):
    def frames(session, episodes, returns=None):
        yield np.zeros((32, 32, 3), np.uint8)
        yield np.zeros((34, 32, 3), np.uint8)

    monkeypatch.setattr(video, "episode_frames", frames)
    with pytest.raises(VideoError, match="frame 1 has shape"):
        export_video("particle/spread", tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []
