"""Recording with --label intended (DART): the env runs the noisy action, the dataset keeps the behaviour's."""

from __future__ import annotations

import numpy as np
import pytest

import macflow_arena as ma
from macflow_arena.cli import main
from macflow_arena.data import Dataset, record_dataset
from macflow_arena.data.replay import ReplayError, replay_frames
from macflow_arena.envs.particle.scripted import SpreadScript


def _record(path, label):
    record_dataset("particle/spread", path, behaviour={"name": "scripted", "noise": 0.3, "label": label},
                   quality="expert", episodes=4, num_envs=4, seed=5)
    return Dataset(path)


def test_intended_labels_are_the_scripts_actions_on_states_off_its_path(tmp_path):
    intended, executed = _record(tmp_path / "i", "intended"), _record(tmp_path / "e", "executed")
    assert intended.header["behaviour"]["label"] == "intended" and "label" not in executed.header["behaviour"]
    a, b = intended.load(), executed.load()
    # the same noise stream drives both recordings: the same states, different stored actions
    assert np.array_equal(a.fields["obs"], b.fields["obs"])
    script = SpreadScript(ma.make("particle/spread").task)
    for ep_i, ep_e in zip(a.iter_episodes(), b.iter_episodes()):
        t = int(ep_i["steps"])
        obs = ep_i["obs"][:t]  # [T, N, D]
        clean = script.act(obs, list(range(obs.shape[1])), np.zeros(t, dtype=bool), None)
        np.testing.assert_allclose(ep_i["action"][:t], clean, atol=1e-6)
        assert np.abs(ep_e["action"][:t] - clean).mean() > 0.05  # the executed actions carry the noise
    # the states leave the noiseless path: a plain expert recording from the same seeds differs
    record_dataset("particle/spread", tmp_path / "x", behaviour={"name": "scripted"}, quality="expert",
                   episodes=4, num_envs=4, seed=5)
    assert not np.allclose(Dataset(tmp_path / "x").load().fields["obs"], a.fields["obs"])


def test_intended_labels_need_a_perturbation_and_cannot_be_replayed(tmp_path, capsys):
    with pytest.raises(ValueError, match="needs noise or epsilon"):
        record_dataset("particle/spread", tmp_path / "n", behaviour={"name": "scripted", "label": "intended"},
                       quality="expert", episodes=2, num_envs=2)
    with pytest.raises(ValueError, match="label must be one of"):
        record_dataset("particle/spread", tmp_path / "m", behaviour={"name": "scripted", "noise": 0.1, "label": "x"},
                       quality="expert", episodes=2, num_envs=2)
    ds = _record(tmp_path / "i", "intended")
    with pytest.raises(ReplayError, match="cannot be re-simulated"):
        next(iter(replay_frames(ds.header, next(ds.load().iter_episodes()), render_mode=None)))
    assert main(["record", "particle/spread", "--label", "intended", "--out", str(tmp_path / "c"), "--episodes", "2",
                 "--num-envs", "2", "--no-reference", "--quiet"]) == 2
    assert "--label intended needs --noise or --epsilon" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
    assert main(["record", "particle/spread", "--label", "intended", "--noise", "0.2", "--out", str(tmp_path / "d"),
                 "--episodes", "2", "--num-envs", "2", "--no-reference", "--quiet"]) == 0
    assert Dataset(tmp_path / "d").header["behaviour"]["label"] == "intended"


def test_appending_episodes_with_other_labels_is_refused(tmp_path):
    from macflow_arena.data.writer import HeaderMismatchError

    ds = _record(tmp_path / "i", "intended")
    with pytest.raises(HeaderMismatchError, match="stores intended actions"):
        record_dataset("particle/spread", ds.path, behaviour={"name": "scripted", "noise": 0.3}, quality="expert",
                       episodes=2, num_envs=2, mode="append")
    assert Dataset(ds.path).num_episodes == 4  # nothing lost, nothing added
    record_dataset("particle/spread", ds.path, behaviour={"name": "scripted", "noise": 0.3, "label": "intended"},
                   quality="expert", episodes=2, num_envs=2, mode="append")
    assert Dataset(ds.path).num_episodes == 6
