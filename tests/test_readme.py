"""README runs as written (issue #12, item 3).

* Every ```python block runs unchanged in a fresh interpreter (headless).
* Every command of the Quick start runs (the play command must stop at once:
  there is no display here); pip/pytest lines are not run (they install or recurse).
* Every line of the CLI reference is covered by a tiny concrete invocation below,
  or listed in SKIPPED with the reason; a new line in README fails this test
  until it is one or the other.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(lang: str, text: str = README) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _section(title: str) -> str:
    part = README.split(f"\n## {title}\n", 1)[1]
    return part.split("\n## ", 1)[0]


def _env(tmp_path) -> dict:
    env = os.environ.copy()
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", MACFLOW_ARENA_HOME=str(tmp_path / "home"),
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    return env


class _Out:
    def __init__(self, rc, err):
        self.returncode, self.stderr = rc, err


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``macflow-arena ARGS`` in this process (no interpreter start per command), home and cwd in tmp_path."""
    from macflow_arena.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MACFLOW_ARENA_HOME", str(tmp_path / "home"))

    def run(args: list[str]) -> _Out:
        capsys.readouterr()
        rc = main(list(args))
        return _Out(rc, capsys.readouterr().err)

    return run


def test_readme_has_the_blocks_this_test_runs():
    assert len(_blocks("python")) >= 1
    assert _blocks("bash", _section("Quick start"))
    assert len(_blocks("", _section("CLI reference"))) == 1


@pytest.mark.parametrize("i", range(len(_blocks("python"))))
def test_python_blocks_run_as_written(i, tmp_path):
    code = _blocks("python")[i]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=_env(tmp_path), timeout=300)
    assert out.returncode == 0, f"README python block {i} failed:\n{code}\n{out.stderr[-3000:]}"


def _quick_start_commands() -> list[str]:
    lines = []
    for block in _blocks("bash", _section("Quick start")):
        lines += [ln.split("#")[0].strip() for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    return lines


def test_quick_start_commands(tmp_path, cli):
    cmds = _quick_start_commands()
    assert cmds[0] == "pip install -e ."  # not run: it installs (the suite runs on that install)
    ran = []
    for cmd in cmds[1:]:
        args = shlex.split(cmd)
        assert args[0] == "macflow-arena", cmd
        if args[1] == "play" and "--headless" not in args:  # no display here: one clear line, at once
            out = cli(args[1:])
            assert out.returncode == 2 and "--headless" in out.stderr and "macflow-arena video" in out.stderr
            assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        else:
            small = [("1" if a == "3" and args[j - 1] == "--episodes" else a) for j, a in enumerate(args)]
            out = cli(small[1:])
            assert out.returncode == 0, (cmd, out.stderr[-2000:])
        ran.append(args[1])
    assert ran == ["play", "video"] and (tmp_path / "tag.mp4").stat().st_size > 0


# CLI reference line (its first words) -> tiny concrete invocations, run in this order in one home folder
TINY = {
    "list": [["list"]],
    "play ENV [--seat": [["play", "particle/spread", "--seat", "agent_0=random", "--headless", "--frames", "5"]],
    "video ENV --out": [["video", "particle/tag", "--out", "v.gif", "--episodes", "1", "--size", "64", "--quiet"]],
    "record ENV": [["record", "particle/spread", "--episodes", "8", "--num-envs", "8", "--reference-episodes", "16",
                    "--name", "tiny", "--quiet"]],
    "dataset list": [["dataset", "list"], ["dataset", "info", "tiny"], ["dataset", "verify", "tiny"],
                     ["dataset", "repair", "tiny"], ["dataset", "replay", "tiny", "--video", "r.gif"]],
    "train ENV": [["train", "particle/spread", "--dataset", "tiny", "--algo", "bc", "--steps", "3", "--batch-size", "2",
                   "--window", "3", "--eval-every", "0", "--eval-episodes", "2", "--no-progress", "--no-tensorboard",
                   "--set", "hidden=16,16", "--name", "r"]],
    "eval RUN": [["eval", "r", "--episodes", "2"]],
    "team export": [["team", "export", "r", "--name", "t", "--episodes", "2"], ["team", "list"],
                    ["team", "info", "t", "--card"]],
    "play ENV --team": [["play", "particle/spread", "--team", "t", "--headless", "--frames", "3"]],
    "video ENV --team": [["video", "particle/spread", "--compare", "t", "spread-bc", "--episodes", "1", "--size", "64",
                          "--out", "c.gif", "--quiet"]],
    "report RUN": [["report", "r", "--episodes", "2", "--out", "rep"]],
}
SKIPPED = {
    "behave train|eval": "trains an SB3 PPO policy (minutes); tests/test_data_sb3.py runs it with tiny budgets",
    "bench": "a speed benchmark (its point is to take long enough to time); tests/test_bench_report.py covers it",
    "demo": "records, trains two teams and renders (minutes); tests/test_demo.py runs it with tiny budgets",
}


def _reference_lines() -> list[str]:
    block = _blocks("", _section("CLI reference"))[0]
    return [ln.strip()[len("macflow-arena "):] for ln in block.splitlines() if ln.strip().startswith("macflow-arena ")]


def test_every_cli_reference_line_is_run_or_skipped_with_a_reason():
    keys = list(TINY) + list(SKIPPED)
    for line in _reference_lines():
        owners = [k for k in keys if line.startswith(k)]
        assert owners, f"README CLI reference line not covered by tests/test_readme.py: {line}"


def test_cli_reference_commands_run(tmp_path, cli):
    for key, runs in TINY.items():
        for args in runs:
            out = cli(args)
            assert out.returncode == 0, (key, args, out.stderr[-2000:])
    assert (tmp_path / "v.gif").is_file() and (tmp_path / "c.gif").is_file() and (tmp_path / "rep" / "report.md").is_file()
