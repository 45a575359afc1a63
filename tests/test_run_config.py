"""``train.config.read_run_config``: the one reader of a run's config.json (team export and report use it)."""

from __future__ import annotations

import json

import pytest

from macflow_arena.train.config import RUN_CONFIG_KEYS, RunConfigError, read_run_config

GOOD = {"train": {"env": "particle/spread", "seed": 0}, "algo": "macflow", "spec": {"n_agents": 3},
        "dataset": {"name": "d"}}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MACFLOW_ARENA_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _run(folder, cfg) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(cfg if isinstance(cfg, str) else json.dumps(cfg))
    return str(folder)


def test_reads_a_run_by_name_and_by_folder(home, tmp_path):
    by_name = home / "runs" / "my-run"
    _run(by_name, GOOD)
    assert read_run_config("my-run") == (by_name, GOOD)
    assert read_run_config(_run(tmp_path / "elsewhere", GOOD)) == (tmp_path / "elsewhere", GOOD)


def test_missing_run_names_the_runs_dir_and_the_train_folder(home, tmp_path):
    with pytest.raises(RunConfigError, match="no-such-run: not a training run folder") as info:
        read_run_config("no-such-run")
    msg = str(info.value)
    assert f"no folder {home / 'runs' / 'no-such-run'}" in msg
    assert str(home / "runs") in msg and "`macflow-arena train --out`" in msg
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunConfigError, match=r"has no config\.json.*macflow-arena train --out"):
        read_run_config(tmp_path / "empty")
    assert issubclass(RunConfigError, ValueError)


@pytest.mark.parametrize("text, pattern", [
    ("{", "unreadable run config"),
    (b"\xff\xfe{}", "unreadable run config"),
    ("[1, 2]", r"garbled run config \(a JSON list"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "spec"}), r"missing key\(s\) \['spec'\]"),
    (json.dumps({"algo": "bc"}), r"missing key\(s\) \['train', 'spec', 'dataset'\]"),
    (json.dumps({**GOOD, "train": "oops"}), r"\['train'\] should be JSON object"),
], ids=["truncated", "not-utf8", "list", "no-spec", "three-missing", "train-not-object"])
def test_garbled_config_names_the_file(tmp_path, text, pattern):
    run = tmp_path / "run"
    run.mkdir()
    cfg = run / "config.json"
    cfg.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RunConfigError, match=pattern) as info:
        read_run_config(run)
    assert str(info.value).startswith(f"{cfg}: ") and "retrain the run" in str(info.value)


def test_team_export_and_report_convert_to_their_errors(tmp_path, home):
    from macflow_arena.report.runs import ReportError, run_folder
    from macflow_arena.teams.export import TeamError, _run_config

    assert RUN_CONFIG_KEYS == ("train", "algo", "spec", "dataset")
    bad = _run(tmp_path / "bad", {"train": {}})
    for fn, err in ((_run_config, TeamError), (run_folder, ReportError)):
        with pytest.raises(err, match="not a training run folder"):
            fn("no-such-run")
        with pytest.raises(err, match=r"config\.json: garbled run config, missing key"):
            fn(bad)
        assert fn(_run(tmp_path / "good", GOOD)) == (tmp_path / "good", GOOD)
