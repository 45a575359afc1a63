"""CLI smoke tests: every command end to end with tiny budgets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import macflow_arena
from macflow_arena.cli import main


def test_list_prints_every_env_id(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    envs = macflow_arena.list_envs()
    assert envs
    for env_id, description in envs.items():
        assert env_id in out and description in out


def test_video_end_to_end(tmp_path, capsys):
    out = tmp_path / "tag.gif"
    rc = main(["video", "particle/tag", "--out", str(out), "--size", "32", "--fps", "20", "--seed", "3", "--quiet"])
    assert rc == 0
    assert out.is_file() and out.stat().st_size > 0
    assert "51 frames" in capsys.readouterr().out  # 50 steps + the reset frame


def test_video_mp4_with_seats(tmp_path, capsys):
    out = tmp_path / "v.mp4"
    rc = main(["video", "particle/tag", "--out", str(out), "--size", "32", "--seat", "prey_0=random"])
    assert rc == 0 and out.is_file()
    captured = capsys.readouterr()
    assert "wrote" in captured.err  # progress goes to stderr


def test_play_headless_frames(capsys):
    assert main(["play", "particle/spread", "--headless", "--frames", "20", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "20 frames" in out and "seed 1" in out


def test_play_headless_tag_prey_seat(capsys):
    rc = main(["play", "particle/tag", "--seat", "prey_0=keyboard", "--headless", "--episodes", "1"])
    assert rc == 0
    assert "1 episode(s)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["play", "particle/nope", "--headless", "--frames", "1"],
                                  ["video", "particle/nope", "--out", "x.mp4"]])
def test_unknown_env_id_exits_2_and_lists_ids(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for env_id in macflow_arena.list_envs():
        assert env_id in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, match",
    [
        (["play", "particle/spread", "--seat", "agent_9=keyboard", "--headless", "--frames", "1"], "agent_0, agent_1"),
        (["play", "particle/spread", "--seat", "agent_0=wizard", "--headless", "--frames", "1"], "known kinds"),
        (["play", "particle/spread", "--headless"], "--frames"),
        (["play", "particle/spread", "--headless", "--frames", "0"], ">= 1"),
        (["video", "particle/spread", "--out", "v.avi"], ".mp4 or .gif"),
        (["video", "particle/spread", "--out", "v.mp4", "--seat", "agent_0=keyboard"], "no human input"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, match, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match.lower() in err.lower() and "Traceback" not in err
    assert err.count("\n") == 1


def test_usage_errors_and_help(capsys):
    assert main([]) == 2
    assert main(["play"]) == 2  # missing ENV: argparse usage error
    assert main(["--help"]) == 0
    assert "play" in capsys.readouterr().out
    assert main(["play", "--help"]) == 0
    out = capsys.readouterr().out
    assert "prey_0=keyboard" in out and "keyboard" in out and "scripted" in out


def test_python_dash_m_help():
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    out = subprocess.run([sys.executable, "-m", "macflow_arena", "--help"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    for command in ("list", "play", "video"):
        assert command in out.stdout


def test_a_closed_stdout_pipe_ends_the_command_quietly():
    """`macflow-arena list | head -1`: the reader goes away first; no traceback, the shell's 141."""
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "macflow_arena", "list"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()  # before the command has written anything
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
