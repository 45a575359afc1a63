"""Issue #13, cases 1 and 10: checksummed weights; hostile configs refused before anything is built."""

from __future__ import annotations

import json
import shutil

import pytest

torch = pytest.importorskip("torch")

from _team_helpers import make_run, make_team, team_home  # noqa: E402

from macflow_arena.algos.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from macflow_arena.cli import main  # noqa: E402
from macflow_arena.teams import TeamError, load_team  # noqa: E402
from macflow_arena.train.trainer import latest_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with team_home(tmp_path_factory.mktemp("home")) as h:
        run = make_run(h, steps=2)
        make_team([run], "spread-w", episodes=1)
        yield h


def _header(data: bytes) -> tuple[int, dict]:
    n = int.from_bytes(data[:8], "little")
    return 8 + n, json.loads(data[8 : 8 + n])


def _flip_exponent_bit(path, prefix):
    """Flip the top exponent bit of the first float32 of the first ``prefix*weight`` tensor (a finite value)."""
    data = bytearray(path.read_bytes())
    base, header = _header(bytes(data))
    name = next(k for k in sorted(header) if k.startswith(prefix) and k.endswith("weight"))
    off = base + header[name]["data_offsets"][0]
    data[off + 3] ^= 0x40
    path.write_bytes(bytes(data))
    return name


def _copy_run(home, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(home / "runs" / "particle-spread-macflow-s0", dst)
    return dst


def test_flipped_checkpoint_bit_refused_by_eval_resume_export(home, tmp_path, capsys):
    run = _copy_run(home, tmp_path)
    ck = latest_checkpoint(run)
    _flip_exponent_bit(ck, "nets.student")
    with pytest.raises(CheckpointError, match=r"sha256 .* differs .*(altered or corrupted).*restore"):
        load_checkpoint(ck)
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ck.name in err[0] and "sha256" in err[0]
    assert main(["train", "--resume", str(run), "--steps", "4", "--no-progress"]) == 2
    assert "sha256" in capsys.readouterr().err
    assert main(["team", "export", str(run), "--name", "bad-team", "--episodes", "1"]) == 2
    assert "sha256" in capsys.readouterr().err
    assert not (home / "teams" / "bad-team").exists()


def test_checkpoint_without_checksum_is_refused_with_the_fix(home, tmp_path):
    run = _copy_run(home, tmp_path)
    ck = latest_checkpoint(run)
    side = ck.with_suffix(".json")
    meta = json.loads(side.read_text())
    del meta["weights_checksum"]
    side.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="no content checksum"):
        load_checkpoint(ck)
    from macflow_arena.integrity.rehash import rehash

    rehash(ck)  # the documented one-off for files one trusts
    assert load_checkpoint(ck).algo.step == 2


def test_sign_flipped_team_weights_refused_by_info_play_video(home, tmp_path, capsys):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "spread-w"
    shutil.copytree(home / "teams" / "spread-w", folder)
    w = folder / "weights.safetensors"
    with safe_open(str(w), "pt") as f:
        meta = f.metadata()
    tensors = {k: (-v if k.startswith("student") else v) for k, v in load_file(str(w)).items()}
    save_file(tensors, str(w), metadata=meta)
    with pytest.raises(TeamError, match=r"weights.safetensors: sha256 .* differs .*config.json.*export the team again"):
        load_team(folder)
    capsys.readouterr()
    assert main(["team", "info", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sha256" in err[0]
    assert main(["video", "particle/spread", "--team", str(folder), "--out", str(tmp_path / "v.gif"),
                 "--episodes", "1"]) == 2
    assert "sha256" in capsys.readouterr().err and not (tmp_path / "v.gif").exists()


def test_shipped_and_exported_teams_carry_their_checksum(home):
    from macflow_arena.teams.format import shipped_dir

    for folder in [home / "teams" / "spread-w"] + sorted(p for p in shipped_dir().iterdir() if p.is_dir()):
        cfg = json.loads((folder / "config.json").read_text())
        assert len(cfg["weights_checksum"]["sha256"]) == 64, folder


HOSTILE_TEAM = [
    ("hidden negative", {"algo_config": {"hidden": [-3, 128, 128]}}, r"hidden entry = -3 is outside \[1, 65536\]"),
    ("hidden string", {"algo_config": {"hidden": "abc"}}, "hidden must be a list"),
    ("huge hidden", {"algo_config": {"hidden": [10**6] * 3}}, r"hidden entry = 1000000 is outside"),
    ("huge obs_dim", {"spec": {"obs_dim": 10**12}}, r"obs_dim = 1000000000000 is outside"),
    ("lr NaN", {"algo_config": {"lr": float("nan")}}, "lr must be finite"),
    ("wide but allowed widths", {"algo_config": {"hidden": [60000] * 4}}, r"builds [\d,]+ parameters .* limit"),
]


@pytest.mark.parametrize("case,change,pattern", HOSTILE_TEAM, ids=[c[0] for c in HOSTILE_TEAM])
def test_hostile_team_config_refused_before_building(home, tmp_path, case, change, pattern):
    folder = tmp_path / "t"
    shutil.copytree(home / "teams" / "spread-w", folder)
    cfg = json.loads((folder / "config.json").read_text())
    for key, sub in change.items():
        cfg[key] = {**cfg[key], **sub}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(TeamError, match=pattern):
        load_team(folder)


HOSTILE_RUN = [
    ("batch_size huge", {"batch_size": 10**9}, r"batch_size = 1000000000 is outside \[1, 65536\]"),
    ("window string", {"window": "many"}, "window must be an integer"),
    ("lr NaN override", {"overrides": {"lr": float("nan")}}, r"overrides.*lr must be finite"),
    ("hidden huge override", {"overrides": {"hidden": [10**6] * 3}}, "hidden entry = 1000000 is outside"),
]


@pytest.mark.parametrize("case,change,pattern", HOSTILE_RUN, ids=[c[0] for c in HOSTILE_RUN])
def test_hostile_run_config_refused_on_resume(home, tmp_path, capsys, case, change, pattern):
    run = _copy_run(home, tmp_path)
    path = run / "config.json"
    cfg = json.loads(path.read_text())
    cfg["train"].update(change)
    path.write_text(json.dumps(cfg))
    assert main(["train", "--resume", str(run), "--steps", "4", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "config.json" in err[0]
    import re

    assert re.search(pattern, err[0]), err[0]


def test_checkpoint_metadata_with_huge_sizes_refused(home, tmp_path):
    from safetensors.torch import load_file, save

    from macflow_arena.integrity import weights_digest as wd

    run = _copy_run(home, tmp_path)
    ck = latest_checkpoint(run)
    data = ck.read_bytes()
    meta = json.loads(_header(data)[1]["__metadata__"]["macflow_arena"])
    meta["spec"]["obs_dim"] = 10**12
    raw = save(load_file(str(ck)), metadata={"macflow_arena": json.dumps(meta)})
    ck.write_bytes(raw)
    ck.with_suffix(".json").write_text(json.dumps({wd.KEY: wd.digests(raw, ck.name)}))
    with pytest.raises(CheckpointError, match=r"obs_dim = 1000000000000 is outside"):
        load_checkpoint(ck)
