"""Issue #13, cases 6, 7, 9, 12 and 13: names stay home, scenario values in range, deep JSON is an
error, a full disk is one line, and a resumed run leaves no temp files and no duplicated log steps."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from macflow_arena.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("MACFLOW_ARENA_HOME", str(h))
    return h


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# -- case 6: names are one path component ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../x", "..", "/abs/x", "a/b", ".hidden", ""])
def test_record_name_must_be_one_safe_component(home, tmp_path, capsys, name):
    args = ["record", "particle/spread", "--name", name, "--episodes", "2", "--num-envs", "2", "--no-reference",
            "--quiet"]
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main(args) == 2
    assert "--out PATH" in _one_line(capsys)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written anywhere


@pytest.mark.parametrize("name", ["../../z", "..", "/abs/z", "a/b"])
def test_train_name_must_be_one_safe_component(home, tmp_path, capsys, name):
    pytest.importorskip("torch")
    assert main(["train", "particle/spread", "--dataset", "nope", "--name", name, "--no-progress"]) == 2
    assert "bad run name" in _one_line(capsys)
    assert not (tmp_path / "z").exists() and not (home / "runs").exists()


def test_record_out_still_takes_a_path(home, tmp_path):
    out = tmp_path / "elsewhere" / "ds"
    assert main(["record", "particle/spread", "--out", str(out), "--episodes", "2", "--num-envs", "2",
                 "--no-reference", "--quiet"]) == 0
    assert (out / "manifest.jsonl").is_file()


# -- case 7: scenario and unit values finite and in range ------------------------------------------------------

@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "envs", root / "envs")
    monkeypatch.setenv("MACFLOW_ARENA_DATA", str(root))
    return root


def _set_key(path: Path, key: str, value: str) -> None:
    lines = [f"{key} = {value}" if ln.split("=")[0].strip() == key else ln for ln in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("key,value,words", [
    ("agent_size", "inf", "agent_size must be finite"),
    ("collision_penalty", "inf", "collision_penalty must be finite"),
    ("n_agents", "1000000", r"n_agents = 1000000 is outside its range \[1, 64\]"),
    ("contact_force", "1e300", r"contact_force = 1e\+300 is outside its range"),
    ("max_cycles", "100000000", "max_cycles = 100000000 is outside"),
])
def test_scenario_values_checked_at_load(data_root, capsys, key, value, words):
    import re

    from macflow_arena.registry import make
    from macflow_arena.spec import SpecError

    _set_key(data_root / "envs" / "particle" / "spread.toml", key, value)
    with pytest.raises(SpecError, match=words) as info:
        make("particle/spread")
    assert "spread.toml" in str(info.value)
    assert main(["video", "particle/spread", "--out", str(data_root / "v.gif")]) == 2
    line = _one_line(capsys)
    assert "spread.toml" in line and re.search(words, line)


def test_unit_values_checked_at_load(data_root):
    from macflow_arena.registry import make
    from macflow_arena.spec import SpecError

    units = data_root / "envs" / "skirmish" / "units.toml"
    units.write_text(units.read_text().replace("hp = 45.0", "hp = inf", 1))
    assert "hp = inf" in units.read_text()
    with pytest.raises(SpecError, match=r"units.toml: unit 'marine': hp must be finite"):
        make("skirmish/3m")


def test_shipped_scenarios_are_in_range():
    from macflow_arena.registry import make, registered

    for env_id in registered():
        make(env_id).close()


# -- case 9: deeply nested JSON is an error, and one bad dataset never breaks listing --------------------------

DEEP = "[" * 1000 + "]" * 1000


def test_deep_json_in_a_manifest_line(home, capsys):
    from macflow_arena.data import Dataset, record_dataset, verify
    from macflow_arena.data.errors import ManifestError

    root = home / "datasets"
    for name in ("good", "bad"):
        record_dataset("particle/spread", root / name, behaviour={"name": "scripted"}, quality="expert",
                       episodes=2, num_envs=2, mode="create")
    with open(root / "bad" / "manifest.jsonl", "a") as f:
        f.write(DEEP + "\n")
    with pytest.raises(ManifestError, match="nested 1000 levels"):
        Dataset(root / "bad")
    assert not verify(root / "bad").ok
    capsys.readouterr()
    assert main(["dataset", "list"]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "bad" in out and "unreadable" in out


def test_deep_json_in_team_and_run_configs(home, tmp_path):
    pytest.importorskip("torch")
    from macflow_arena.teams import TeamError, list_teams, load_team
    from macflow_arena.train.config import RunConfigError, read_run_config

    team = home / "teams" / "deep"
    team.mkdir(parents=True)
    (team / "config.json").write_text('{"format": ' + DEEP + "}")
    (team / "weights.safetensors").write_bytes(b"x" * 16)
    with pytest.raises(TeamError, match="nested 1001 levels"):
        load_team(team)
    rows = [r for r in list_teams() if r["name"] == "deep"]
    assert rows and "nested" in rows[0]["error"]
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(DEEP)
    with pytest.raises(RunConfigError, match="nested 1000 levels"):
        read_run_config(run)


# -- case 12: a full disk is one line --------------------------------------------------------------------------

def _fail_writes_into(monkeypatch, predicate, after: int = 0):
    real = os.write
    seen = [0]

    def write(fd, data):
        target = os.readlink(f"/proc/self/fd/{fd}")
        if predicate(target):
            seen[0] += 1
            if seen[0] > after:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    return lambda: monkeypatch.setattr(os, "write", real)


def test_disk_full_while_recording(home, tmp_path, monkeypatch, capsys):
    from macflow_arena.data import Dataset

    out = tmp_path / "ds"
    args = ["record", "particle/spread", "--out", str(out), "--episodes", "16", "--num-envs", "4",
            "--episodes-per-shard", "4", "--no-reference", "--quiet"]
    restore = _fail_writes_into(monkeypatch, lambda t: ".shard-" in t, after=2)
    assert main(args) == 2
    restore()
    line = _one_line(capsys)
    assert "disk full" in line and "8 committed episodes are kept" in line and "--append" in line and "MB" in line
    assert Dataset(out).num_episodes == 8
    assert main([*args[:-1], "--append", "--episodes", "8", "--quiet"]) == 0 and Dataset(out).num_episodes == 16


def test_disk_full_while_training_and_exporting(home, tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from _train_helpers import record_tiny

    ds = record_tiny(tmp_path / "data", episodes=8)
    run = tmp_path / "run"
    args = ["train", "particle/spread", "--dataset", str(ds), "--out", str(run), "--steps", "4", "--ckpt-every",
            "2", "--eval-episodes", "0", "--eval-every", "0", "--batch-size", "4", "--window", "5", "--threads", "1",
            "--no-progress", "--set", "hidden=32,32", "--set", "flow_steps=2"]
    restore = _fail_writes_into(monkeypatch, lambda t: "step-00000004" in t)
    assert main(args) == 2
    restore()
    line = _one_line(capsys)
    assert "disk full" in line and "step-00000002.safetensors, step 2) is kept" in line and "--resume" in line
    assert main(["train", "--resume", str(run), "--steps", "4", "--no-progress"]) == 0

    import macflow_arena.teams.export as export

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_folder", full)
    capsys.readouterr()
    assert main(["team", "export", str(run), "--name", "full-team", "--episodes", "1"]) == 2
    err = capsys.readouterr().err  # progress lines, then the error as one line
    assert "Traceback" not in err and [x for x in err.splitlines() if "error:" in x] == [err.strip().splitlines()[-1]]
    assert "disk full while exporting" in err and "free space" in err


# -- case 13: a resumed run leaves no temp files and logs each step once ---------------------------------------

def test_resume_cleans_temp_files_and_truncates_logs(home, tmp_path):
    pytest.importorskip("torch")
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.train.trainer import train

    ds = record_tiny(tmp_path / "data", episodes=8)
    run = tmp_path / "run"
    train(tiny_config(ds, run, steps=6, ckpt_every=3, log_every=1), log=None)
    ck = run / "checkpoints"
    for p in list(ck.glob("step-00000006*")):  # killed after logging step 6, mid-checkpoint
        p.unlink()
    (ck / ".step-00000006.safetensors.999999999.tmp").write_bytes(b"partial")
    train(tiny_config(ds, run, steps=8, ckpt_every=3, log_every=1), resume=run, log=None)
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9)), steps
    assert not [p for p in ck.iterdir() if p.name.endswith(".tmp")]
