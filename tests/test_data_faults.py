"""Faults: corrupted folders, disk full, and SIGKILL of a recording process."""

from __future__ import annotations

import errno
import json
import os
import signal
import time
import warnings

import numpy as np
import pytest

from macflow_arena.data import Dataset, RecordEpisodes, repair, verify
from macflow_arena.data import errors as E
from macflow_arena.data.manifest import MANIFEST

from _data_helpers import ToyEnv, play


def _record(path, episodes=6, per_shard=2, **kw):
    rec = RecordEpisodes(ToyEnv(**kw), path, episodes_per_shard=per_shard)
    play(rec, episodes)
    rec.close()
    return Dataset(path)


def _shard_lines(path):
    return [json.loads(x) for x in (path / MANIFEST).read_bytes().splitlines()[1:]]


def _snapshot(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.name != ".lock"}


def _episodes(path):
    data = Dataset(path).load()
    return {int(e): data.episode(i) for i, e in enumerate(data.episode_id)}


def _assert_same_episodes(got, ref):
    for eid, ep in got.items():
        for k, v in ep.items():
            if k in ("start_time", "wall_time"):
                continue
            assert np.asarray(v).tobytes() == np.asarray(ref[eid][k]).tobytes(), (eid, k)


CORRUPTIONS = {
    "truncated": (lambda p, s: p.joinpath(s).write_bytes(p.joinpath(s).read_bytes()[:-100]), E.ShardSizeError, "truncated"),
    "byte_flipped": (lambda p, s: _flip(p / s, 2000), E.ShardChecksumError, "sha256"),
    "deleted": (lambda p, s: p.joinpath(s).unlink(), E.ShardMissingError, "missing"),
}


def _flip(path, offset):
    b = bytearray(path.read_bytes())
    b[offset] ^= 0x10
    path.write_bytes(bytes(b))


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_damaged_shard_gives_specific_error_and_repair_drops_it(tmp_path, case):
    path = tmp_path / "ds"
    _record(path)
    ref = _episodes(path)
    damage, err, words = CORRUPTIONS[case]
    damage(path, "shard-000001.npz")
    with pytest.raises(err, match=words):
        Dataset(path).load()
    report = verify(path)
    assert len(report.problems) == 1 and isinstance(report.problems[0], err), str(report)
    actions = repair(path)
    assert any("shard-000001.npz" in a for a in actions)
    assert verify(path).ok
    got = _episodes(path)
    assert sorted(got) == [0, 1, 4, 5]
    _assert_same_episodes(got, ref)


def test_unlisted_shard_and_temp_file(tmp_path):
    path = tmp_path / "ds"
    _record(path)
    (path / "shard-000009.npz").write_bytes(b"orphan")
    (path / ".shard-000010.npz.123.tmp").write_bytes(b"partial")
    report = verify(path)
    assert [p.code for p in report.problems] == ["unlisted", "unlisted"]
    assert Dataset(path).num_episodes == 6  # readers trust only the manifest
    repair(path)
    assert verify(path).ok and not (path / "shard-000009.npz").exists()


def test_duplicated_manifest_line(tmp_path):
    path = tmp_path / "ds"
    _record(path)
    lines = (path / MANIFEST).read_bytes().splitlines(keepends=True)
    (path / MANIFEST).write_bytes(b"".join(lines + [lines[2]]))
    with pytest.raises(E.DuplicateEntryError, match="duplicates line 3"):
        Dataset(path)
    assert [p.code for p in verify(path).problems] == ["duplicate"]
    repair(path)
    assert verify(path).ok and Dataset(path).num_episodes == 6


def test_altered_manifest_line_and_torn_tail(tmp_path):
    path = tmp_path / "ds"
    _record(path)
    raw = (path / MANIFEST).read_bytes()
    (path / MANIFEST).write_bytes(raw.replace(b'"steps":[6,6]', b'"steps":[6,7]', 1))
    with pytest.raises(E.ManifestError, match="checksum mismatch"):
        Dataset(path)
    (path / MANIFEST).write_bytes(raw + raw.splitlines(keepends=True)[1][:40])  # interrupted append
    assert Dataset(path).num_episodes == 6  # the torn line commits nothing
    assert [p.code for p in verify(path).problems] == ["torn_line"]
    repair(path)
    assert verify(path).ok and (path / MANIFEST).read_bytes() == raw


def test_fifo_in_place_of_a_shard_never_hangs(tmp_path):
    path = tmp_path / "ds"
    _record(path)
    (path / "shard-000000.npz").unlink()
    os.mkfifo(path / "shard-000000.npz")
    t = time.monotonic()
    report = verify(path)
    assert time.monotonic() - t < 5 and report.problems[0].code == "shard_content"
    repair(path)
    assert verify(path).ok


@pytest.mark.parametrize("where", ["shard", "manifest"])
def test_disk_full_reaches_caller_and_leaves_dataset_unchanged(tmp_path, monkeypatch, where):
    path = tmp_path / "ds"
    rec = RecordEpisodes(ToyEnv(), path, episodes_per_shard=2)
    play(rec, 4)
    before = _snapshot(path)
    real_write = os.write
    manifest_fd = []

    def full(fd, data):
        is_manifest = os.path.realpath(f"/proc/self/fd/{fd}").endswith(MANIFEST)
        if (where == "manifest") == is_manifest:
            manifest_fd.append(fd)
            n = real_write(fd, bytes(data)[: len(data) // 2])  # a partial write, then the disk is full
            if n:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError) as info:
        play(rec, 2, seed=50)
    assert info.value.errno == errno.ENOSPC and manifest_fd
    monkeypatch.setattr(os, "write", real_write)
    assert _snapshot(path) == before
    assert verify(path).ok
    rec.close()  # the two episodes are still pending and commit now
    assert Dataset(path).num_episodes == 6 and verify(path).ok


def _child_record(path, episodes):
    rec = RecordEpisodes(ToyEnv(random_end=True), path, episodes_per_shard=1 + episodes % 2)
    play(rec, episodes, seed=0)
    rec.close()


def test_sigkill_during_recording_loses_nothing_committed(tmp_path):
    """Fast version of benchmarks/kill_recorder.py: 12 kills at random points."""
    ref_path = tmp_path / "ref"
    _child_record(ref_path, 24)
    ref = _episodes(ref_path)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    _child_record(tmp_path / "timing", 24)
    full = time.perf_counter() - t
    seen, recovered = set(), 0
    for trial in range(12):
        path = tmp_path / f"k{trial}"
        RecordEpisodes(ToyEnv(random_end=True), path).close()  # the dataset exists before the kill
        with warnings.catch_warnings():  # Python >= 3.12 warns about fork() once threads exist (torch's pool)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                _child_record(path, 24)
            finally:
                os._exit(0)
        time.sleep(float(rng.uniform(0, full)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        got = _episodes(path)  # committed episodes read back exactly, no partial episode
        assert sorted(got) == list(range(len(got)))
        _assert_same_episodes(got, ref)
        repair(path)
        assert verify(path).ok, str(verify(path))
        # repair keeps every committed episode, and recovers a whole shard whose line the kill prevented
        after = _episodes(path)
        assert sorted(after)[: len(got)] == sorted(got) and sorted(after) == list(range(len(after)))
        _assert_same_episodes(after, ref)
        recovered += len(after) - len(got)
        seen.add(len(got))
    assert len(seen) > 3  # the kills landed at different points
