"""Team folders: export (atomic, card, size), list, info, load round trips, hostile files refused."""

from __future__ import annotations

import json
import shutil

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, tiny  # noqa: E402
from _team_helpers import make_run, make_team, team_home  # noqa: E402

from macflow_arena.cli import main  # noqa: E402
from macflow_arena.teams import TeamError, list_teams, load_team  # noqa: E402
from macflow_arena.teams.format import CARD, CONFIG, WEIGHTS  # noqa: E402

MB = 1024 * 1024


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with team_home(tmp_path_factory.mktemp("home")) as h:
        # the small preset (3 x 128) the size limit is about, two seeds for the CI over seeds
        runs = [make_run(h, seed=s, tiny=False) for s in (0, 1)]
        make_team(runs, "spread-macflow", episodes=4)
        yield h


def _copy_team(home, tmp_path, name="spread-macflow"):
    dst = tmp_path / name
    shutil.copytree(home / "teams" / name, dst)
    return dst


# -- export ------------------------------------------------------------------------------------


def test_export_writes_weights_config_and_card(home):
    team = home / "teams" / "spread-macflow"
    assert sorted(p.name for p in team.iterdir()) == sorted([WEIGHTS, CONFIG, CARD])
    assert not [p for p in team.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    assert (team / WEIGHTS).stat().st_size < 2 * MB
    cfg = json.loads((team / CONFIG).read_text())
    assert cfg["algo"] == "macflow" and cfg["env_id"] == "particle/spread-v0" and cfg["act_nets"] == ["student"]
    assert cfg["algo_config"]["hidden"] == [128, 128, 128] and cfg["agents"] == ["agent_0", "agent_1", "agent_2"]
    assert len(cfg["dataset"]["manifest_sha256"]) == 64 and cfg["dataset"]["card"]["found"]
    assert [t["seed"] for t in cfg["train"]] == [0, 1] and len(cfg["eval"]["per_run"]) == 2
    ev = cfg["eval"]
    assert ev["ci_over"] == "training seeds" and ev["return_ci95"][0] <= ev["return_mean"] <= ev["return_ci95"][1]
    assert "normalized_score" in ev and ev["episodes_per_run"] == 4
    assert cfg["latency_ms"]["calls"] >= 200 and cfg["latency_ms"]["median_ms"] > 0
    # only the acting weights: no critic, teacher, target or optimizer state
    from safetensors import safe_open

    with safe_open(str(team / WEIGHTS), "pt") as f:
        keys = list(f.keys())
    assert keys and all(k.startswith("student.") for k in keys)
    card = (team / CARD).read_text()
    for s in ("--seed 0", "--seed 1", "--dataset", cfg["dataset"]["manifest_sha256"], "training seeds",
              "normalized score", "median", "ms", cfg["package_version"], "macflow-arena train particle/spread"):
        assert s in card, s


def test_export_single_run_ci_is_over_episodes(home, tmp_path):
    out = make_team([home / "runs" / "particle-spread-macflow-s0-small"], "one-seed", out_dir=tmp_path / "one")
    cfg = json.loads((out / CONFIG).read_text())
    assert cfg["eval"]["ci_over"] == "episodes"
    assert "over episodes" in (out / CARD).read_text() or "episodes of one run" in (out / CARD).read_text()


def test_export_refuses_overwrite_bad_names_and_mixed_runs(home, tmp_path):
    run0 = home / "runs" / "particle-spread-macflow-s0-small"
    with pytest.raises(TeamError, match="exists.*overwrite"):
        make_team([run0], "spread-macflow", out_dir=home / "teams" / "spread-macflow")
    from macflow_arena.teams import export_team

    for bad in ("Spread", "-x", "a b", "../x", "a/b", "", "x" * 65):
        with pytest.raises(TeamError, match="bad team name"):
            export_team([run0], bad, episodes=1)
    # ranking candidates needs the critic, which a team does not ship
    with pytest.raises(TeamError, match="exec_candidates=4.*critic.*exec_candidates=1"):
        export_team([run0], "best-of", out_dir=tmp_path / "best-of", episodes=1, execution=["exec_candidates=4"])
    assert not (tmp_path / "best-of").exists()
    # a run with another training setting is not another seed of the same team
    other = tmp_path / "other"
    shutil.copytree(run0, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["train"]["steps"] = 99
    cfg["train"]["seed"] = 5
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(TeamError, match="differ in train setting 'steps'"):
        make_team([run0, other], "mixed", out_dir=tmp_path / "mixed")
    cfg["train"]["steps"] = json.loads((run0 / "config.json").read_text())["train"]["steps"]
    cfg["train"]["seed"] = 0
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(TeamError, match="share seed"):
        make_team([run0, other], "mixed", out_dir=tmp_path / "mixed")
    # a run trained before a TrainConfig field existed (key absent) matches one with that field's default
    from macflow_arena.teams.export import _check_same

    cfg["train"]["seed"] = 7
    old_cfg = json.loads(json.dumps(cfg))
    del old_cfg["train"]["init_nets"], old_cfg["train"]["init_from"]
    _check_same([run0, other], [json.loads((run0 / "config.json").read_text()), old_cfg])
    old_cfg["train"]["init_from"] = "some-run"
    with pytest.raises(TeamError, match="differ in train setting 'init_from'"):
        _check_same([run0, other], [json.loads((run0 / "config.json").read_text()), old_cfg])
    # ... and likewise an algorithm option added later (absent: its default; set otherwise: refused)
    old_cfg["train"]["init_from"] = None
    del old_cfg["algo_config"]["rank"]
    _check_same([run0, other], [json.loads((run0 / "config.json").read_text()), old_cfg])
    old_cfg["algo_config"]["rank"] = "min"
    with pytest.raises(TeamError, match="differ in algo_config"):
        _check_same([run0, other], [json.loads((run0 / "config.json").read_text()), old_cfg])
    with pytest.raises(TeamError, match="not a training run folder"):
        make_team([tmp_path], "nothing", out_dir=tmp_path / "nothing")
    assert not (tmp_path / "mixed").exists() and not (tmp_path / "nothing").exists()


def test_overwrite_replaces_atomically(home, tmp_path):
    run0 = home / "runs" / "particle-spread-macflow-s0-small"
    dest = tmp_path / "t"
    make_team([run0], "t", out_dir=dest)
    (dest / "stale.txt").write_text("old")
    make_team([run0], "t", out_dir=dest, overwrite=True)
    assert sorted(p.name for p in dest.iterdir()) == sorted([WEIGHTS, CONFIG, CARD])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_failed_write_keeps_the_old_team_and_leaves_no_temp(tmp_path, monkeypatch):
    import os

    from macflow_arena.teams import format as fmt

    dest = tmp_path / "t"
    fmt.write_folder(dest, {"a.txt": b"old"})
    real = os.replace

    def failing(src, dst):
        if ".t.tmp-" in str(src) or ".fresh.tmp-" in str(src):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(fmt.os, "replace", failing)
    with pytest.raises(OSError, match="No space"):
        fmt.write_folder(dest, {"a.txt": b"new"}, overwrite=True)
    with pytest.raises(OSError, match="No space"):
        fmt.write_folder(tmp_path / "fresh", {"a.txt": b"new"})
    assert (dest / "a.txt").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_act_depends_only_on_act_nets(case):
    """What a team ships is all ``act`` reads: copying the act nets copies the behaviour."""
    _, name, discrete, ov = case
    a, b = tiny(name, discrete, seed=1, **ov), tiny(name, discrete, seed=2, **ov)
    for net in type(a).act_nets:
        b.nets[net].load_state_dict(a.nets[net].state_dict())
    obs = torch.randn(4, a.spec.n_agents, a.spec.obs_dim, generator=torch.Generator().manual_seed(0))
    avail = None
    if discrete:
        avail = torch.rand(4, a.spec.n_agents, a.spec.action_dim, generator=torch.Generator().manual_seed(1)) < 0.6
        avail[..., 0] = True
    outs = [m.act(obs, torch.Generator().manual_seed(7), avail) for m in (a, b)]
    assert torch.equal(outs[0], outs[1])


def test_small_preset_weights_stay_under_2mb():
    """Every algorithm with the small preset on the widest env of each family."""
    from macflow_arena import list_envs, make_vec
    from macflow_arena.algos import ALGOS, TeamSpec, make
    from macflow_arena.teams.weights import weights_bytes

    widest = {}
    for env_id in list_envs():
        v = make_vec(env_id, 1)
        n_act = v.action_space.n if hasattr(v.action_space, "n") else v.action_space.shape[0]
        spec = TeamSpec(v.n_agents, v.obs_dim, int(n_act), discrete=hasattr(v.action_space, "n"))
        v.close()
        fam = env_id.split("/")[0]
        if fam not in widest or spec.n_agents * (spec.obs_dim + spec.action_dim) > widest[fam][1]:
            widest[fam] = (env_id, spec.n_agents * (spec.obs_dim + spec.action_dim), spec)
    checked = 0
    for env_id, _, spec in widest.values():
        for name, cls in ALGOS.items():
            for disc in ((True, False) if env_id.startswith("particle") else (True,)):
                s = TeamSpec(spec.n_agents, spec.obs_dim, 5 if disc and env_id.startswith("particle") else spec.action_dim,
                             discrete=disc)
                if not (cls.discrete_ok if disc else cls.continuous_ok):
                    continue
                size = len(weights_bytes(make(name, s, "small")))
                assert size < 2 * MB, (env_id, name, disc, size)
                checked += 1
    assert checked >= 10


# -- load ----------------------------------------------------------------------------------------


def test_load_by_name_folder_and_run_act_like_the_checkpoint(home):
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.train.trainer import latest_checkpoint

    run0 = home / "runs" / "particle-spread-macflow-s0-small"
    by_name = load_team("spread-macflow")
    by_path = load_team(home / "teams" / "spread-macflow")
    by_run = load_team(str(run0))
    ref = load_checkpoint(latest_checkpoint(run0)).algo
    assert by_name.name == "spread-macflow" and by_name.env_id == "particle/spread-v0" and by_name.source == "team"
    assert by_run.source == "run" and by_run.name == run0.name and by_run.agents == by_name.agents
    assert by_name.spec == ref.spec and by_name.card["eval"]["runs"] == 2
    obs = torch.randn(3, ref.spec.n_agents, ref.spec.obs_dim, generator=torch.Generator().manual_seed(4))
    want = ref.act(obs, torch.Generator().manual_seed(9))
    for t in (by_name, by_path, by_run):
        assert torch.equal(t.algo.act(obs, torch.Generator().manual_seed(9)), want)


def test_unknown_team_lists_known_ones(home):
    with pytest.raises(TeamError, match="no team 'nope'.*spread-macflow"):
        load_team("nope")


def test_list_teams_user_shipped_and_broken(home, tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "agents").mkdir(parents=True)
    shutil.copytree(home / "teams" / "spread-macflow", data / "agents" / "spread-macflow")
    shutil.copytree(home / "teams" / "spread-macflow", data / "agents" / "shipped-one")
    cfg = json.loads((data / "agents" / "shipped-one" / CONFIG).read_text())
    cfg["name"] = "shipped-one"
    (data / "agents" / "shipped-one" / CONFIG).write_text(json.dumps(cfg))
    (data / "agents" / "broken").mkdir()
    (data / "agents" / "broken" / CONFIG).write_text("{not json")
    monkeypatch.setenv("MACFLOW_ARENA_DATA", str(data))
    rows = {(r["name"], r["source"]): r for r in list_teams()}
    user = rows[("spread-macflow", "user")]
    assert user["env"] == "particle/spread-v0" and user["algo"] == "macflow" and user["score_kind"] == "normalized"
    assert 0 < user["size"] < 2 * MB
    assert rows[("spread-macflow", "shipped")].get("shadowed")
    assert rows[("shipped-one", "shipped")]["score"] == pytest.approx(user["score"])
    assert "unreadable" in rows[("broken", "shipped")]["error"]
    assert load_team("shipped-one").name == "shipped-one"  # found in the shipped agents/ folder


# -- hostile and mismatched files ---------------------------------------------------------------------


def _rewrite_weights(folder, fn):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    path = folder / WEIGHTS
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    tensors, meta = fn(tensors, meta)
    save_file(tensors, str(path), metadata=meta)
    from macflow_arena.integrity.rehash import rehash

    try:  # a hostile file with a matching checksum: the content checks must still refuse it
        rehash(folder)
    except Exception:  # noqa: BLE001 - a file the framing checks refuse cannot be stamped
        pass


def _nan(t, m):
    k = sorted(t)[0]
    t[k] = t[k].clone()
    t[k].view(-1)[0] = float("nan")
    return t, m


def _extra(t, m):
    t["critic.heads.0.0.weight"] = torch.zeros(2, 2)
    return t, m


def _missing(t, m):
    del t[sorted(t)[-1]]
    return t, m


def _shape(t, m):
    k = sorted(t)[0]
    t[k] = torch.zeros(*t[k].shape[:-1], t[k].shape[-1] + 1)
    return t, m


def _dtype(t, m):
    k = sorted(t)[0]
    t[k] = t[k].double()
    return t, m


def _meta(t, m):
    meta = json.loads(m["macflow_arena"])
    meta["config"]["hidden"] = [64, 64]
    return t, {"macflow_arena": json.dumps(meta)}


@pytest.mark.parametrize("edit,pattern", [
    (_nan, "NaN"), (_extra, "unexpected.*critic"), (_missing, "missing"), (_shape, "expected torch.float32|the config builds"),
    (_dtype, "expected torch.float32"), (_meta, "disagree on config"),
], ids=["nan", "extra-key", "missing-key", "shape", "dtype", "metadata"])
def test_mismatched_weights_refused(home, tmp_path, edit, pattern):
    folder = _copy_team(home, tmp_path)
    _rewrite_weights(folder, edit)
    with pytest.raises(TeamError, match=pattern):
        load_team(folder)


def test_garbled_and_hostile_files_refused(home, tmp_path):
    import pickle

    folder = _copy_team(home, tmp_path)
    w = folder / WEIGHTS
    good = w.read_bytes()
    cases = {
        "truncated": (good[: len(good) // 2], "outside the .*data section"),
        "header past the end": ((10**6).to_bytes(8, "little") + good[8:100], "runs past the end"),
        "huge header": ((2**40).to_bytes(8, "little") + b"{}", "exceeds the"),
        "empty": (b"", "too short"),
        "random bytes": (bytes(range(256)) * 4, "exceeds|runs past|not valid JSON"),
        "pickle": (pickle.dumps({"x": 1}, protocol=4), "pickled"),
        "trailing": (good + b"\0" * 8, "trailing bytes"),
    }
    for label, (data, pattern) in cases.items():
        w.write_bytes(data)
        with pytest.raises(TeamError, match=pattern) as info:
            load_team(folder)
        assert "spread-macflow" in str(info.value) and str(w) in str(info.value), label
    w.write_bytes(good)
    cfg_path = folder / CONFIG
    cfg = json.loads(cfg_path.read_text())
    for label, text, pattern in [
        ("garbled", "{", "unreadable team config"),
        ("other format", json.dumps({**cfg, "format": "x"}), "not a macflow-arena team"),
        ("newer", json.dumps({**cfg, "format_version": 99}), "version 99"),
        ("unknown algo", json.dumps({**cfg, "algo": "nope"}), "unknown algorithm"),
        ("unknown field", json.dumps({**cfg, "algo_config": {**cfg["algo_config"], "bogus": 1}}), "bogus"),
        ("wrong hidden", json.dumps({**cfg, "algo_config": {**cfg["algo_config"], "hidden": [64]}}), "disagree|do not belong together"),
        ("agents", json.dumps({**cfg, "agents": ["a"]}), "agents"),
    ]:
        cfg_path.write_text(text)
        with pytest.raises(TeamError, match=pattern):
            load_team(folder)
    cfg_path.write_text(json.dumps(cfg))
    assert load_team(folder).name == "spread-macflow"


def test_team_on_another_env_names_both(home):
    from macflow_arena import make
    from macflow_arena.teams import TeamPolicy

    team = load_team("spread-macflow")
    env = make("particle/cover")
    with pytest.raises(TeamError, match=r"spread-macflow \(macflow\) was trained on particle/spread-v0; this env is "
                                        r"particle/cover"):
        TeamPolicy(team, env, team.agents)
    env.close()


# -- CLI -------------------------------------------------------------------------------------------------


def test_cli_team_list_info_export(home, tmp_path, capsys):
    assert main(["team", "list"]) == 0
    out = capsys.readouterr().out
    assert "spread-macflow" in out and "particle/spread-v0" in out and "macflow" in out
    assert main(["team", "info", "spread-macflow"]) == 0
    out = capsys.readouterr().out
    assert "student" in out and "ms per decision" in out and "training seeds" in out
    assert main(["team", "info", "spread-macflow", "--card"]) == 0
    assert capsys.readouterr().out.startswith("# Team `spread-macflow`")
    assert main(["team", "list", "--json"]) == 0
    assert any(r["name"] == "spread-macflow" for r in json.loads(capsys.readouterr().out))
    assert main(["team", "export", str(home / "runs" / "particle-spread-macflow-s0-small"), "--name", "spread-macflow",
                 "--episodes", "2"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["team", "info", "nope"]) == 2
    assert "no team 'nope'" in capsys.readouterr().err
    dest = tmp_path / "agents" / "cli-team"
    assert main(["team", "export", str(home / "runs" / "particle-spread-macflow-s0-small"), "--name", "cli-team",
                 "--out", str(dest), "--episodes", "2", "--device", "cpu"]) == 0
    assert "cli-team" in capsys.readouterr().out and (dest / WEIGHTS).is_file()
