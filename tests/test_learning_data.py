"""The trainer's data for feed-forward networks: i.i.d. transitions that never cross an episode
end, n-step returns that stop there, dataset statistics, and the entity layout of every env
(declared by the env, stored in the dataset header, read back by the trainer)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _train_helpers import record_tiny  # noqa: E402

import macflow_arena  # noqa: E402
from macflow_arena.envs.layout import LayoutError, env_layout, normalize_layout  # noqa: E402
from macflow_arena.registry import registered  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from macflow_arena.train.data import load_device_dataset

    path = record_tiny(tmp_path_factory.mktemp("ds"), "particle/spread", episodes=12)
    return load_device_dataset(path, "particle/spread")


def _episode_of_obs_row(data, rows):
    starts = data.obs_start.numpy()
    return np.searchsorted(starts, rows, side="right") - 1


def test_transitions_never_cross_an_episode_end(data):
    g = torch.Generator().manual_seed(0)
    b = data.sample_transitions(4096, g)
    assert b.T == 1 and b.B == 4096 and b.discount is None and bool((b.mask == 1).all())
    b.validate(data.spec)
    # Tag every observation row with its index to find each sampled transition's rows back.
    import dataclasses

    tagged = dataclasses.replace(data, obs=data.obs.clone(), _nstep={})
    tagged.obs[:, :, 0] = torch.arange(data.obs.shape[0], dtype=torch.float32)[:, None]
    b = tagged.sample_transitions(4096, torch.Generator().manual_seed(0))
    r0 = b.obs[:, 0, 0, 0].long().numpy()
    r1 = b.obs[:, 1, 0, 0].long().numpy()
    assert (r1 == r0 + 1).all()  # obs[:, 1] is the next observation ...
    assert (_episode_of_obs_row(data, r0) == _episode_of_obs_row(data, r1)).all()  # ... of the same episode
    # Every step is drawn (first and last steps of episodes included), no final observation starts one.
    finals = data.obs_start.numpy()[1:] - 1
    assert not np.isin(r0, finals).any()
    assert len(np.unique(r0)) > 0.9 * data.num_steps


def test_nstep_returns_stop_at_the_episode_end(data):
    gamma, n = 0.9, 4
    ret, nxt, disc, term = data._nstep_targets(n, gamma)
    steps = data.steps.numpy()
    ss = data.step_start.numpy()
    os_ = data.obs_start.numpy()
    r = data.rewards.numpy().astype(np.float64)
    for e in (0, len(steps) - 1):
        T = steps[e]
        for t in (0, T - 2, T - 1):
            k = min(n, T - t)
            want = sum(gamma ** j * r[ss[e] + t + j] for j in range(k))
            row = ss[e] + t
            assert ret[row].item() == pytest.approx(want, rel=1e-5)
            assert nxt[row].item() == os_[e] + t + k  # bootstraps from the final obs at most
            assert disc[row].item() == pytest.approx(gamma ** k)
    b = data.sample_transitions(64, torch.Generator().manual_seed(1), n_step=n, gamma=gamma)
    b.validate(data.spec)
    assert b.discount is not None and b.discount.shape == (64, 1)
    with pytest.raises(ValueError, match="gamma"):
        data.sample_transitions(4, torch.Generator(), n_step=3)


def test_dataset_statistics_and_layout_reach_the_spec(data):
    flat = data.obs.reshape(-1, data.obs.shape[-1])
    assert torch.allclose(data.obs_mean, flat.mean(0), atol=1e-4)
    assert data.spec.entities and data.spec.entities[0][0] == "self"
    from macflow_arena.data import Dataset

    header = Dataset(data.path).header  # the recorder stored the env's layout
    assert any(g["name"] == "landmarks" for g in header["entities"])


@pytest.mark.parametrize("env_id", sorted(registered()))
def test_every_env_declares_a_layout_that_covers_its_observation(env_id):
    venv = macflow_arena.make_vec(env_id, 2)
    lay = env_layout(venv)
    assert lay is not None and lay[0][0] == "self"
    covered = sorted(i for _, rows in lay for r in rows for i in r)
    assert covered == list(range(venv.obs_dim))  # every entry in exactly one token
    assert len(lay) >= 2, f"{env_id}: no entity tokens besides the agent's own"
    par = macflow_arena.make(env_id)
    assert env_layout(par) == lay  # the PettingZoo env and the batched env agree
    venv.close()
    par.close()


def test_particle_tokens_are_the_entities_relative_positions():
    venv = macflow_arena.make_vec("particle/spread", 1)
    obs, _ = venv.reset(seed=3)
    lay = dict(env_layout(venv))
    pos = venv.core.pos[0]
    n = venv.n_agents
    for i in range(n):
        for k, row in enumerate(lay["landmarks"]):
            assert np.allclose(obs[0, i, list(row)], pos[n + k] - pos[i], atol=1e-5)


def test_bad_layouts_are_refused_with_the_group_named():
    with pytest.raises(LayoutError, match="landmarks.*not in"):
        normalize_layout([{"name": "landmarks", "index": [[0, 99]]}], 10)
    with pytest.raises(LayoutError, match="two entities"):
        normalize_layout([{"name": "a", "index": [[0, 1]]}, {"name": "b", "index": [[1, 2]]}], 10)
    with pytest.raises(LayoutError, match="same number"):
        normalize_layout([{"name": "a", "index": [[0, 1], [2]]}], 10)
    lay = normalize_layout([{"name": "a", "index": [[2, 3]]}], 5)
    assert lay[0] == ("self", ((0, 1, 4),))  # unclaimed entries join the agent's own token


def test_start_fraction_oversamples_episode_starts(data):
    import dataclasses

    tagged = dataclasses.replace(data, obs=data.obs.clone(), _nstep={})
    tagged.obs[:, :, 0] = torch.arange(data.obs.shape[0], dtype=torch.float32)[:, None]
    b = tagged.sample_transitions(400, torch.Generator().manual_seed(0), start_fraction=0.25)
    rows = b.obs[:, 0, 0, 0].long().numpy()
    starts = data.obs_start.numpy()[:-1]
    is_start = np.isin(rows, starts)
    assert 0.25 <= is_start.mean() < 0.3 + 0.05  # a quarter drawn from starts, plus the uniform rows' own
    # spread over the batch: any prefix (MAC-Flow's students use the first rows) holds about the same share
    assert 0.15 < is_start[:100].mean() < 0.45 and 0.15 < is_start[:200].mean() < 0.45


def test_train_help_renders(capsys):
    """Every option's help text goes through argparse's % formatting."""
    from macflow_arena.cli import main

    assert main(["train", "--help"]) == 0  # the CLI turns argparse's exit into a return code
    assert "--start-fraction" in capsys.readouterr().out


def test_float_train_options_parse_as_numbers():
    import argparse

    from macflow_arena.commands import train as train_cmd

    sub = argparse.ArgumentParser().add_subparsers()
    train_cmd.add_parser(sub)
    ns = sub.choices["train"].parse_args(["particle/cover", "--start-fraction", "0.25"])
    assert ns.start_fraction == 0.25 and isinstance(ns.start_fraction, float)
