"""Dataset format: bit-identical round trips of every space type, schema and value checks."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from macflow_arena.data import Dataset, DatasetWriter, RecordEpisodes, verify
from macflow_arena.data.errors import DatasetLockedError, DatasetValueError, HeaderMismatchError, SchemaVersionError
from macflow_arena.data.manifest import MANIFEST, encode_line

from _data_helpers import ToyEnv, play


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("obs,act", [("box", "discrete"), ("box", "box"), ("hetero", "multidiscrete"), ("dict", "discrete")])
def test_round_trip_is_bit_identical(tmp_path, obs, act):
    env = ToyEnv(obs=obs, act=act, max_cycles=6, die_at=3)
    rec = RecordEpisodes(env, tmp_path / "ds", episodes_per_shard=2, info_keys=["score"],
                         policies={"a0": "keyboard", "a1": "scripted"}, human_seats=["a0"])
    log = []
    play(rec, 5, seed=10, log=log)
    rec.close()
    ds = Dataset(tmp_path / "ds")
    assert ds.num_episodes == 5 and len(ds.shards) == 3
    data = ds.load()
    agents = env.possible_agents
    for k, ep in enumerate(log):
        got = data.episode(data.index_of(k))
        steps = len(ep["actions"])
        assert int(got["steps"]) == steps and got["obs"].shape[0] == steps + 1
        assert int(got["seed"]) == 10 + k and int(got["reset_index"]) == 0
        assert got["policy"].tolist() == ["keyboard", "scripted", "unknown"]
        assert got["human"].tolist() == [True, False, False]
        for t in range(steps + 1):
            for i, a in enumerate(agents):
                if a not in ep["obs"][t]:
                    assert not got["obs"][t, i].any()
                    continue
                o = ep["obs"][t][a]
                if obs == "dict":
                    _same(got["obs"][t, i], o["observation"])
                    _same(got["action_mask"][t, i], o["action_mask"])
                elif obs == "hetero":
                    flat = np.asarray(o).reshape(-1)
                    _same(got["obs"][t, i, : flat.size], flat)
                    assert not got["obs"][t, i, flat.size :].any()
                else:
                    _same(got["obs"][t, i], o)
            _same(got["state"][t], ep["state"][t])
        for t in range(steps):
            for i, a in enumerate(agents):
                alive = a in ep["actions"][t]
                assert bool(got["alive"][t, i]) == alive
                if not alive:
                    continue
                want = np.asarray(ep["actions"][t][a], dtype=env.action_space(a).dtype)
                _same(got["action"][t, i], want)
                _same(got["reward"][t, i], np.float64(ep["rewards"][t][a]))
                assert bool(got["terminated"][t, i]) == ep["terms"][t][a]
                assert bool(got["truncated"][t, i]) == (ep["truncs"][t][a] and not ep["terms"][t][a])
                assert got["info.score"][t, i] == t + 1
    # a1 dies at step 3: alive for steps 0..2 only, final obs stored at row 3
    assert data.episode(0)["alive"][:, 1].tolist() == [True] * 3 + [False] * 3
    assert data.episode(0)["terminated"][2, 1]
    assert verify(tmp_path / "ds").ok


def test_terminated_wins_over_truncated(tmp_path):
    env = ToyEnv(max_cycles=3, die_at=3, both_flags=True)
    rec = RecordEpisodes(env, tmp_path / "ds")
    play(rec, 1)
    rec.close()
    ep = Dataset(tmp_path / "ds").load().episode(0)
    assert ep["terminated"][2].tolist() == [False, True, False]
    assert ep["truncated"][2].tolist() == [True, False, True]


def test_newer_major_schema_is_refused(tmp_path):
    rec = RecordEpisodes(ToyEnv(), tmp_path / "ds")
    play(rec, 1)
    rec.close()
    path = tmp_path / "ds" / MANIFEST
    lines = path.read_bytes().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["schema"] = "2.0"
    path.write_bytes(encode_line(header) + b"".join(lines[1:]))
    with pytest.raises(SchemaVersionError, match=r"schema 2\.0, newer .* pip install -U macflow-arena"):
        Dataset(tmp_path / "ds")
    assert not verify(tmp_path / "ds").ok


def _rewrite_shard(folder, mutate):
    """Apply ``mutate(arrays)`` to the first shard and re-commit it (valid sha256 and size)."""
    import hashlib

    from macflow_arena.data.shards import encode_shard

    path = folder / MANIFEST
    lines = path.read_bytes().splitlines(keepends=True)
    rec = json.loads(lines[1])
    with np.load(folder / rec["name"]) as z:
        arrays = {k: z[k] for k in z.files}
    mutate(arrays)
    data = encode_shard(arrays)
    (folder / rec["name"]).write_bytes(data)
    rec.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    path.write_bytes(lines[0] + encode_line(rec) + b"".join(lines[2:]))


def test_nan_is_rejected_at_load_naming_episode_and_field(tmp_path):
    rec = RecordEpisodes(ToyEnv(), tmp_path / "ds", episodes_per_shard=3)
    play(rec, 3)
    rec.close()

    def poison(arrays):
        arrays["obs"][7 + 2, 2, 1] = np.nan  # episode 1 starts at obs row 7 (6 steps + 1)

    _rewrite_shard(tmp_path / "ds", poison)
    with pytest.raises(DatasetValueError, match=r"episode 1, field 'obs': NaN or inf at obs index 2, agent a2"):
        Dataset(tmp_path / "ds").load()
    report = verify(tmp_path / "ds")
    assert [p.code for p in report.problems] == ["bad_value"]


def test_value_outside_its_space_is_rejected(tmp_path):
    rec = RecordEpisodes(ToyEnv(act="discrete"), tmp_path / "ds")
    play(rec, 1)
    rec.close()

    def bad(arrays):
        arrays["action"][1, 0] = 9

    _rewrite_shard(tmp_path / "ds", bad)
    with pytest.raises(DatasetValueError, match=r"episode 0, field 'action': value outside its space at step 1, agent a0"):
        Dataset(tmp_path / "ds").load()


def test_recording_refuses_nan_and_out_of_space_actions(tmp_path):
    class NanEnv(ToyEnv):
        def step(self, actions):
            obs, *rest = super().step(actions)
            obs["a0"][0] = np.nan
            return (obs, *rest)

    rec = RecordEpisodes(NanEnv(), tmp_path / "nan")
    with pytest.raises(DatasetValueError, match=r"field 'obs': NaN or inf at obs index 1, agent a0"):
        play(rec, 1)
    rec.close()
    rec = RecordEpisodes(ToyEnv(act="box"), tmp_path / "box")
    rec.reset(seed=0)
    with pytest.raises(ValueError, match=r"a0: action .* outside its space"):
        rec.step({"a0": np.array([5.0, 0.0], np.float32), "a1": np.zeros(2, np.float32), "a2": np.zeros(2, np.float32)})
    rec.close()


def test_append_continues_ids_and_refuses_another_env(tmp_path):
    rec = RecordEpisodes(ToyEnv(), tmp_path / "ds", episodes_per_shard=2)
    play(rec, 3)
    rec.close()
    rec = RecordEpisodes(ToyEnv(), tmp_path / "ds", episodes_per_shard=2)
    play(rec, 2, seed=100)
    rec.close()
    ds = Dataset(tmp_path / "ds")
    assert ds.episode_ids == [0, 1, 2, 3, 4]
    with pytest.raises(HeaderMismatchError, match="toy_v0"):
        RecordEpisodes(ToyEnv(act="box"), tmp_path / "ds")


def test_one_writer_at_a_time(tmp_path):
    rec = RecordEpisodes(ToyEnv(), tmp_path / "ds")
    with pytest.raises(DatasetLockedError, match="another process"):
        DatasetWriter(tmp_path / "ds")
    rec.close()
    DatasetWriter(tmp_path / "ds").close()


def test_shards_are_plain_npz_without_pickle(tmp_path):
    rec = RecordEpisodes(ToyEnv(obs="dict"), tmp_path / "ds")
    play(rec, 2)
    rec.close()
    name = json.loads((tmp_path / "ds" / MANIFEST).read_bytes().splitlines()[1])["name"]
    with np.load(io.BytesIO((tmp_path / "ds" / name).read_bytes()), allow_pickle=False) as z:
        assert {"obs", "action_mask", "action", "reward", "terminated", "truncated", "alive", "state"} <= set(z.files)
