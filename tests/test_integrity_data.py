"""Issue #13, dataset cases 2, 3, 4, 5, 8, 11 and 14: repair never deletes good data, the run hash is
the loaded snapshot, appends continue the seeds, verify checks what training needs, declared sizes are
checked before reading, and a live recorder's lock is respected."""

from __future__ import annotations

import io
import time
import zipfile

import numpy as np
import pytest

from macflow_arena.data import Dataset, RecordEpisodes, repair, verify
from macflow_arena.data import errors as E
from macflow_arena.data.manifest import MANIFEST, decode_line, encode_line

from _data_helpers import ToyEnv, play


def _record(path, episodes=6, per_shard=2, **kw):
    rec = RecordEpisodes(ToyEnv(**kw), path, episodes_per_shard=per_shard)
    play(rec, episodes)
    rec.close()
    return path


def _episodes(path):
    data = Dataset(path).load()
    return {int(e): data.episode(i) for i, e in enumerate(data.episode_id)}


def _same(got, ref):
    assert sorted(got) == sorted(ref)
    for eid, ep in ref.items():
        for k, v in ep.items():
            assert np.asarray(got[eid][k]).tobytes() == np.asarray(v).tobytes(), (eid, k)


def _lines(path):
    return (path / MANIFEST).read_bytes().splitlines(keepends=True)


def _flip_returns_byte(lines):
    line = bytearray(lines[2])
    i = line.index(b'"returns":[') + len(b'"returns":[')
    while not chr(line[i]).isdigit():
        i += 1
    line[i] ^= 0x01
    return lines[:2] + [bytes(line)] + lines[3:]


# -- case 2: a shard whose bytes are whole is data ------------------------------------------------------------

MANIFEST_DAMAGE = {
    "flipped_returns_byte": _flip_returns_byte,
    "deleted_line": lambda lines: lines[:2] + lines[3:],
    "last_line_without_newline": lambda lines: lines[:-1] + [lines[-1].rstrip(b"\n")],
}


@pytest.mark.parametrize("case", sorted(MANIFEST_DAMAGE))
def test_repair_rebuilds_the_line_of_an_intact_shard(tmp_path, case):
    path = _record(tmp_path / "ds")
    ref = _episodes(path)
    files = {p.name: p.read_bytes() for p in path.glob("shard-*.npz")}
    (path / MANIFEST).write_bytes(b"".join(MANIFEST_DAMAGE[case](_lines(path))))
    assert not verify(path).ok
    actions = repair(path)
    assert any("rebuild the manifest line" in a for a in actions), actions
    assert verify(path).ok, str(verify(path))
    _same(_episodes(path), ref)  # all 6 episodes, bit-exact
    assert {p.name: p.read_bytes() for p in path.glob("shard-*.npz")} == files  # no shard deleted or changed


def test_repair_quarantines_what_cannot_be_read_and_deletes_nothing(tmp_path):
    path = _record(tmp_path / "ds")
    shard = path / "shard-000001.npz"
    damaged = bytearray(shard.read_bytes())
    damaged[2000] ^= 0x10
    shard.write_bytes(bytes(damaged))
    (path / ".shard-000007.npz.99.tmp").write_bytes(b"partial")
    actions = repair(path)
    assert any(a.startswith("quarantine shard-000001.npz") for a in actions), actions
    assert verify(path).ok and sorted(_episodes(path)) == [0, 1, 4, 5]
    q = path / "quarantine"
    assert (q / "shard-000001.npz").read_bytes() == bytes(damaged)
    assert (q / "shard-000007.npz.99.tmp").read_bytes() == b"partial"
    assert any(p.name.startswith("manifest.jsonl.") for p in q.iterdir())  # the old manifest is kept


def test_unlisted_shard_with_colliding_ids_is_quarantined_not_merged(tmp_path):
    path = _record(tmp_path / "ds")
    (path / "shard-000009.npz").write_bytes((path / "shard-000000.npz").read_bytes())  # a copy: ids 0, 1 again
    repair(path)
    assert verify(path).ok and Dataset(path).num_episodes == 6
    assert (path / "quarantine" / "shard-000009.npz").is_file()


# -- case 3: a damaged header is rebuilt from the shards' copies -----------------------------------------------

def _flip_header(raw):
    b = bytearray(raw)
    b[30] ^= 0x01
    return bytes(b)


HEADER_DAMAGE = {
    "flipped_header_byte": _flip_header,
    "empty_manifest": lambda raw: b"",
    "garbage": lambda raw: b"\x00\xffgarbage{{[" * 50,
}


@pytest.mark.parametrize("case", sorted(HEADER_DAMAGE))
def test_repair_rebuilds_a_damaged_header(tmp_path, case):
    path = _record(tmp_path / "ds", episodes=40, per_shard=8)
    ref = _episodes(path)
    raw = (path / MANIFEST).read_bytes()
    (path / MANIFEST).write_bytes(HEADER_DAMAGE[case](raw))
    with pytest.raises(E.ManifestError):
        Dataset(path)
    actions = repair(path)
    assert any("rebuild the manifest header" in a for a in actions), actions
    assert verify(path).ok, str(verify(path))
    _same(_episodes(path), ref)  # 40 episodes readable again
    assert Dataset(path).header["agents"] == ["a0", "a1", "a2"]


# -- case 4: the run's dataset hash is the manifest that was loaded ---------------------------------------------

def test_dataset_hash_is_the_loaded_snapshot(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import hashlib

    from macflow_arena.data import record_dataset
    from macflow_arena.data.loader import Dataset as DS
    from macflow_arena.train.data import load_device_dataset

    path = tmp_path / "spread"
    record_dataset("particle/spread", path, behaviour={"name": "scripted"}, quality="expert", episodes=8,
                   num_envs=8, mode="create")
    before = hashlib.sha256((path / MANIFEST).read_bytes()).hexdigest()
    real_load = DS.load

    def load_while_a_recorder_appends(self, check=True):
        out = real_load(self, check)
        record_dataset("particle/spread", path, behaviour={"name": "scripted"}, quality="expert", episodes=8,
                       num_envs=8, mode="append", seed=None)
        return out

    monkeypatch.setattr(DS, "load", load_while_a_recorder_appends)
    data = load_device_dataset(path, "particle/spread")
    assert data.num_episodes == 8 and Dataset(path).num_episodes == 16
    assert data.manifest_sha256 == before


# -- case 5: appending continues the seeds ---------------------------------------------------------------------

def _pairs(path):
    data = Dataset(path).load()
    return list(zip(data.fields["seed"].tolist(), data.fields["reset_index"].tolist()))


def test_append_continues_the_seed_sequence(tmp_path, capsys):
    from macflow_arena.cli import main
    from macflow_arena.data import record_dataset

    path = tmp_path / "spread"
    record_dataset("particle/spread", path, behaviour={"name": "scripted"}, quality="expert", episodes=16,
                   num_envs=4, mode="create")
    args = ["record", "particle/spread", "--out", str(path), "--append", "--episodes", "16", "--num-envs", "4",
            "--no-reference", "--quiet"]
    assert main(args) == 0  # what a user runs after a kill
    pairs = _pairs(path)
    assert len(pairs) == 32 and len(set(pairs)) == 32, "two episodes share a (seed, reset index)"
    capsys.readouterr()
    assert main(args + ["--seed", "0"]) == 2  # an explicit clash is refused ...
    assert "--allow-repeat-seeds" in capsys.readouterr().err
    assert main(args + ["--seed", "0", "--allow-repeat-seeds"]) == 0  # ... unless asked
    assert len(set(_pairs(path))) == 32 and len(_pairs(path)) == 48


# -- case 8: verify checks what the trainer's loader checks ----------------------------------------------------

def _rewrite_shard(path, name, change):
    """Apply ``change(arrays)`` to a committed shard and re-commit its manifest line (a consistent file)."""
    from macflow_arena.data.shards import encode_shard, parse_shard

    p = path / name
    arrays = parse_shard(p.read_bytes(), name)
    change(arrays)
    data = encode_shard(arrays)
    p.write_bytes(data)
    import hashlib

    lines = _lines(path)
    out = []
    for i, line in enumerate(lines):
        if i and b'"kind":"shard"' in line and name.encode() in line:
            obj = decode_line(line.rstrip(b"\n"), "x")
            obj.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
            line = encode_line(obj)
        out.append(line)
    (path / MANIFEST).write_bytes(b"".join(out))


def _masked_action(a):
    m = a["action_mask"]
    i = int(np.argwhere(m[0, 0] == 0)[0][0]) if (m[0, 0] == 0).any() else None
    if i is None:
        m[0, 0, 1] = 0
        i = 1
    a["action"][0, 0] = i


def _zero_mask(a):
    a["action_mask"][0, 0] = 0


def _huge_reward(a):
    a["reward"][1, 0] = 1e300


def _huge_obs(a):
    a["obs"][1, 0, 0] = 3e38


TRAIN_REFUSES = {
    "masked_action": (_masked_action, "action", "masked"),
    "all_zero_mask": (_zero_mask, "action_mask", "all-zero mask"),
    "reward_1e300": (_huge_reward, "reward", "overflows float32"),
    "obs_3e38": (_huge_obs, "obs", "overflows float32"),
}


def _spread(path, episodes=4):
    from macflow_arena.data import record_dataset

    record_dataset("particle/spread", path, behaviour={"name": "scripted"}, quality="expert", episodes=episodes,
                   num_envs=episodes, mode="create")
    return path


@pytest.mark.parametrize("case", sorted(TRAIN_REFUSES))
def test_verify_checks_what_the_trainer_loader_checks(tmp_path, case):
    change, field, words = TRAIN_REFUSES[case]
    if "mask" in case:
        path = _record(tmp_path / "ds", obs="dict")
    else:  # particle observations are unbounded Boxes: 3e38 is inside the space, and finite
        path = _spread(tmp_path / "ds")
    _rewrite_shard(path, "shard-000000.npz", change)
    report = verify(path)
    assert not report.ok
    msg = str(report.problems[0])
    assert f"field {field!r}" in msg and words in msg and "episode 0" in msg and ("step" in msg or "obs index" in msg), msg


def test_trainer_loader_refuses_what_verify_reports(tmp_path):
    pytest.importorskip("torch")
    from macflow_arena.train.data import load_device_dataset

    path = _spread(tmp_path / "spread")
    _rewrite_shard(path, "shard-000000.npz", _huge_reward)
    msg = str(verify(path).problems[0])
    assert "overflows float32" in msg
    with pytest.raises(E.DatasetValueError, match="overflows float32"):
        load_device_dataset(path, "particle/spread")


# -- case 11: declared sizes checked before reading ------------------------------------------------------------

def _npy_bytes(arr, declared_shape=None):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(arr.dtype), "fortran_order": False,
                                              "shape": declared_shape or arr.shape})
    return buf.getvalue() + np.ascontiguousarray(arr).tobytes()


def _recommit(path, name, data):
    import hashlib

    (path / name).write_bytes(data)
    out = []
    for i, line in enumerate(_lines(path)):
        if i and name.encode() in line:
            obj = decode_line(line.rstrip(b"\n"), "x")
            obj.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
            line = encode_line(obj)
        out.append(line)
    (path / MANIFEST).write_bytes(b"".join(out))


def test_huge_declared_rows_refused_before_allocating(tmp_path):
    from macflow_arena.data.shards import parse_shard

    path = _record(tmp_path / "ds")
    name = "shard-000000.npz"
    arrays = parse_shard((path / name).read_bytes(), name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            z.writestr(f"{k}.npy", _npy_bytes(v, (10**10, 3) if k == "reward" else None))
    _recommit(path, name, buf.getvalue())
    t = time.perf_counter()
    with pytest.raises(E.ShardContentError, match="declares 10000000000 rows.*refused before reading"):
        Dataset(path).load()
    report = verify(path)
    assert report.problems[0].code == "shard_content" and time.perf_counter() - t < 5


def test_decompression_bomb_member_refused_before_expanding(tmp_path):
    import tracemalloc

    from macflow_arena.data.shards import parse_shard

    path = _record(tmp_path / "ds")
    name = "shard-000000.npz"
    arrays = parse_shard((path / name).read_bytes(), name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            if k != "reward":
                z.writestr(f"{k}.npy", _npy_bytes(v))
                continue
            with z.open("reward.npy", "w", force_zip64=True) as f:  # valid array, then 400 MB of zeros
                f.write(_npy_bytes(v))
                chunk = bytes(1 << 20)
                for _ in range(400):
                    f.write(chunk)
    assert len(buf.getvalue()) < 2_000_000
    _recommit(path, name, buf.getvalue())
    tracemalloc.start()
    with pytest.raises(E.ShardContentError, match="does not match its array header"):
        Dataset(path).load()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


# -- case 14: a live recorder's lock is respected --------------------------------------------------------------

def test_verify_and_dry_run_respect_a_live_recorder(tmp_path):
    from macflow_arena.data.writer import DatasetWriter

    path = _record(tmp_path / "ds")
    writer = DatasetWriter(path, mode="append")  # holds the lock, as a recording process does
    try:
        (path / ".shard-000003.npz.4242.tmp").write_bytes(b"being written")
        (path / "shard-000003.npz").write_bytes(b"renamed, line not yet appended")
        with open(path / MANIFEST, "ab") as f:
            f.write(b'{"kind":"shard","na')  # the line being appended
        report = verify(path)
        assert report.ok, str(report)
        assert "a recorder is writing" in str(report) and "6 committed episodes verified" in str(report)
        actions = repair(path, dry_run=True)
        assert len(actions) == 1 and "a recorder is writing" in actions[0] and "would delete" not in actions[0]
        with pytest.raises(E.DatasetLockedError):
            repair(path)
    finally:
        writer.abort()
    assert not verify(path).ok  # once the recorder is gone, the leftovers are problems again
