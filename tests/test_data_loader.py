"""Loader API: whole episodes, padded arrays, windows that never cross an episode end, the card."""

from __future__ import annotations

import numpy as np
import pytest

from macflow_arena.data import Dataset, RecordEpisodes, format_card, normalized_score

from _data_helpers import ToyEnv, play


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("loader") / "ds"
    rec = RecordEpisodes(ToyEnv(obs="dict", random_end=True, max_cycles=12), path, episodes_per_shard=7,
                         reference_returns={"random": -1.0, "expert": 3.0}, quality="mixed")
    play(rec, 30)
    rec.close()
    return Dataset(path)


def test_episodes_have_t_plus_one_obs(data):
    arrays = data.load()
    assert len(arrays) == 30 and len(set(arrays.steps.tolist())) > 3  # variable lengths
    for i, ep in enumerate(arrays.iter_episodes()):
        t = int(ep["steps"])
        assert ep["obs"].shape == (t + 1, 3, 4) and ep["action_mask"].shape == (t + 1, 3, 5)
        assert ep["action"].shape == ep["reward"].shape == ep["alive"].shape == (t, 3)
        assert int(ep["episode_id"]) == i


def test_padded_episodes(data):
    arrays = data.load()
    pad = arrays.padded()
    tmax = int(arrays.steps.max())
    assert pad["obs"].shape == (30, tmax + 1, 3, 4) and pad["reward"].shape == (30, tmax, 3)
    for i in range(30):
        t = int(arrays.steps[i])
        assert pad["mask"][i].tolist() == [True] * t + [False] * (tmax - t)
        ep = arrays.episode(i)
        assert np.array_equal(pad["obs"][i, : t + 1], ep["obs"]) and not pad["obs"][i, t + 1 :].any()
        assert not pad["alive"][i, t:].any()


@pytest.mark.parametrize("full_only", [False, True])
def test_windows_never_cross_an_episode_end(data, full_only):
    arrays = data.load()
    rng = np.random.default_rng(0)
    length = 5
    w = arrays.sample_windows(512, length, rng, full_only=full_only)
    assert w["obs"].shape == (512, length + 1, 3, 4) and w["action"].shape == (512, length, 3)
    assert w["mask"].shape == (512, length) and w["obs_mask"].shape == (512, length + 1)
    padded = 0
    for b in range(512):
        ep = arrays.episode(arrays.index_of(int(w["episode_id"][b])))
        s, t = int(w["start"][b]), int(ep["steps"])
        n = min(length, t - s)
        assert n >= 1 and w["mask"][b].tolist() == [True] * n + [False] * (length - n)
        assert np.array_equal(w["obs"][b, : n + 1], ep["obs"][s : s + n + 1])
        assert np.array_equal(w["reward"][b, :n], ep["reward"][s : s + n])
        assert np.array_equal(w["alive"][b, :n], ep["alive"][s : s + n])
        assert not w["obs"][b, n + 1 :].any() and not w["reward"][b, n:].any() and not w["alive"][b, n:].any()
        assert not w["terminated"][b, n:].any() and not w["action_mask"][b, n + 1 :].any()
        if full_only and t >= length:
            assert n == length
        padded += n < length
    assert full_only or padded > 0


def test_card_statistics(data):
    card = data.card()
    rets = data.load().returns()
    assert card["episodes"] == 30 and card["transitions"] == int(data.load().steps.sum())
    assert card["return"]["mean"] == pytest.approx(rets.mean()) and card["return"]["max"] == pytest.approx(rets.max())
    assert card["quality"] == "mixed" and card["env_id"] == "toy_v0"
    assert card["normalized_return"]["mean"] == pytest.approx(100 * (rets.mean() + 1) / 4)
    text = format_card(card)
    assert "toy_v0" in text and "episodes    30" in text and "normalized" in text


def test_require_env_names_the_recording_env(data):
    from macflow_arena.data.errors import HeaderMismatchError

    data.require_env("toy_v0")
    with pytest.raises(HeaderMismatchError, match="recorded on toy_v0, not particle/spread"):
        data.require_env("particle/spread")


def test_normalized_score():
    assert normalized_score(-1.0, {"random": -1.0, "expert": 3.0}) == 0.0
    assert normalized_score(3.0, {"random": -1.0, "expert": 3.0}) == 100.0
    with pytest.raises(ValueError, match="must exceed"):
        normalized_score(0.0, {"random": 1.0, "expert": 1.0})
