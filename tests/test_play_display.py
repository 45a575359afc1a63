"""`play` without a display stops at once with one line naming --headless and `video` (issue #12, item 1)."""

from __future__ import annotations

import time

import pytest

from macflow_arena.cli import main
from macflow_arena.play import NoEvents, play
from macflow_arena.play.display import NoDisplayError, no_display_reason


@pytest.mark.parametrize(
    "environ, platform, visible",
    [
        ({}, "linux", False),  # a bare server or container
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": ":0", "SDL_VIDEODRIVER": "dummy"}, "linux", False),
        ({"DISPLAY": ":0", "SDL_VIDEODRIVER": "offscreen"}, "linux", False),
        ({"DISPLAY": ":0", "SDL_VIDEODRIVER": "x11"}, "linux", True),
        ({}, "darwin", True),  # macOS and Windows have no DISPLAY variable
        ({}, "win32", True),
        ({"SDL_VIDEODRIVER": "dummy"}, "win32", False),
    ],
)
def test_display_decision(environ, platform, visible):
    reason = no_display_reason(environ, platform)
    assert (reason is None) == visible, reason


def test_cli_play_without_display_stops_at_once(capsys):
    # conftest sets SDL_VIDEODRIVER=dummy: exactly the invisible-window case
    t = time.perf_counter()
    assert main(["play", "particle/spread"]) == 2
    assert time.perf_counter() - t < 5
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--headless" in err and "macflow-arena video particle/spread" in err and "SDL_VIDEODRIVER=dummy" in err


def test_cli_play_headless_still_runs(capsys):
    assert main(["play", "particle/spread", "--headless", "--frames", "5", "--seed", "0"]) == 0
    assert "5 frames" in capsys.readouterr().out


def test_window_on_invisible_driver_is_refused_when_required():
    with pytest.raises(NoDisplayError, match="dummy"):
        play("particle/spread", ["agent_0=scripted"], events=NoEvents(), max_frames=3, require_display=True)
    # without require_display (library use, tests) the dummy window works
    assert play("particle/spread", ["agent_0=scripted"], events=NoEvents(), max_frames=3).frames == 3
