"""CLI smoke: record (single and --suite), dataset list/info/verify/repair/replay, end to end with tiny budgets."""

from __future__ import annotations

import json

import pytest

from macflow_arena.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MACFLOW_ARENA_HOME", str(tmp_path))
    return tmp_path / "datasets"


def test_record_and_dataset_commands(home, tmp_path, capsys):
    assert main(["record", "particle/spread", "--behavior", "scripted", "--quality", "expert", "--episodes", "12",
                 "--num-envs", "4", "--episodes-per-shard", "5", "--quiet", "--reference-episodes", "64"]) == 0
    out = capsys.readouterr().out
    assert "particle-spread-v0-expert" in out and "episodes    12" in out and "references" in out
    assert main(["record", "particle/spread", "--episodes", "3", "--quiet"]) == 2  # exists: refuses
    assert "already holds a dataset" in capsys.readouterr().err
    assert main(["dataset", "list"]) == 0
    assert "particle-spread-v0-expert" in capsys.readouterr().out
    png = tmp_path / "hist.png"
    assert main(["dataset", "info", "particle-spread-v0-expert", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["dataset", "info", "particle-spread-v0-expert", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["episodes"] == 12 and card["quality"] == "expert" and card["shards"] == 3
    assert main(["dataset", "verify", "particle-spread-v0-expert"]) == 0
    shard = home / "particle-spread-v0-expert" / "shard-000001.npz"
    shard.write_bytes(shard.read_bytes()[:-10])
    capsys.readouterr()
    assert main(["dataset", "verify", "particle-spread-v0-expert"]) == 1
    assert "[shard_size]" in capsys.readouterr().out
    assert main(["dataset", "repair", "particle-spread-v0-expert"]) == 0
    assert "OK (2 shards, 7 episodes verified)" in capsys.readouterr().out
    gif = tmp_path / "ep.gif"
    assert main(["dataset", "replay", "particle-spread-v0-expert", "--episode", "11", "--video", str(gif)]) == 0
    assert "26 frames" in capsys.readouterr().out and gif.stat().st_size > 0
    assert main(["dataset", "replay", "particle-spread-v0-expert", "--episode", "0", "--fps", "500"]) == 0  # dummy window
    assert main(["dataset", "replay", "particle-spread-v0-expert", "--episode", "7"]) == 2  # dropped by repair
    assert main(["dataset", "info", "nope"]) == 2


def test_record_suite(home, capsys):
    assert main(["record", "particle/spread", "--suite", "--episodes", "8", "--num-envs", "8", "--quiet",
                 "--reference-episodes", "64"]) == 0
    err = capsys.readouterr().err
    assert "reference returns" in err and "medium: epsilon" in err
    assert sorted(p.name for p in home.iterdir()) == [
        "particle-spread-v0-expert", "particle-spread-v0-medium", "particle-spread-v0-medium-replay",
        "particle-spread-v0-random"]
