"""Checkpoints: round trip, exact resume in a new process, atomic saves under
SIGKILL, hostile files refused with a clean error, and no unpickling anywhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")

from _algo_helpers import CASE_IDS, CASES, CONT, expert_dataset, minibatch, spec_for, tiny  # noqa: E402

from macflow_arena.algos.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint  # noqa: E402

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_round_trip_continues_identically(case, tmp_path):
    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    data = expert_dataset(spec, episodes=8)
    algo = tiny(name, discrete, seed=5, **overrides)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        algo.update(minibatch(data, 4, g))
    path = save_checkpoint(tmp_path / "ck.safetensors", algo, dataset_hash="sha256:abc", extra={"epoch": 1})
    meta = json.loads((tmp_path / "ck.json").read_text())
    assert meta["algo"] == name and meta["step"] == 3 and meta["dataset_hash"] == "sha256:abc"
    assert meta["package_version"] and meta["config"]["hidden"] == [32, 32] and meta["extra"] == {"epoch": 1}
    ck = load_checkpoint(path)
    assert ck.algo.config == algo.config and ck.algo.spec == algo.spec and ck.algo.step == 3
    b = minibatch(data, 4, g)
    assert algo.update(b) == ck.algo.update(b)
    s1, s2 = algo.state_dict(), ck.algo.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


RESUME_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    sys.path.insert(0, {tests!r})
    from _algo_helpers import CASES, resume_batch, spec_for
    from macflow_arena.algos.checkpoint import load_checkpoint
    from safetensors.torch import save_file

    out, n = sys.argv[1], int(sys.argv[2])
    losses, tensors = {{}}, {{}}
    for cid, name, disc, ov in CASES:
        algo = load_checkpoint(f"{{out}}/{{cid}}.safetensors").algo
        losses[cid] = [algo.update(resume_batch(spec_for(disc), s)) for s in range(n, 2 * n)]
        tensors.update({{f"{{cid}}/{{k}}": v for k, v in algo.state_dict().items()}})
    json.dump(losses, open(f"{{out}}/second.json", "w"))
    save_file(tensors, f"{{out}}/second.safetensors")
    """
)


def test_exact_resume_in_new_process(tmp_path):
    """2N updates straight == N updates, save, load in a new process, N more:
    every loss and every tensor (weights, optimizer moments, RNG) bit-identical."""
    from _algo_helpers import resume_batch

    n = 8
    straight, first = {}, {}
    final = {}
    for cid, name, disc, ov in CASES:
        spec = spec_for(disc)
        a, b = tiny(name, disc, seed=3, **ov), tiny(name, disc, seed=3, **ov)
        straight[cid] = [a.update(resume_batch(spec, s)) for s in range(2 * n)]
        first[cid] = [b.update(resume_batch(spec, s)) for s in range(n)]
        save_checkpoint(tmp_path / f"{cid}.safetensors", b)
        final.update({f"{cid}/{k}": v for k, v in a.state_dict().items()})
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT.format(tests=str(TESTS)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), str(tmp_path), str(n)], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    second = json.loads((tmp_path / "second.json").read_text())
    for cid in CASE_IDS:
        assert straight[cid][:n] == first[cid], cid
        assert straight[cid][n:] == second[cid], cid
    resumed = st.load_file(str(tmp_path / "second.safetensors"))
    assert final.keys() == resumed.keys()
    diff = [k for k in final if not torch.equal(final[k], resumed[k])]
    assert not diff, diff[:5]
    assert any(k.endswith("rng.train") for k in final) and any(".exp_avg_sq" in k for k in final)


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    import torch
    sys.path.insert(0, {tests!r})
    from _algo_helpers import tiny
    from macflow_arena.algos.checkpoint import save_checkpoint

    out, delays = sys.argv[1], [float(d) for d in sys.argv[2:]]
    algo = tiny("macflow", False, hidden=(256, 256, 256))
    for trial, delay in enumerate(delays):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the saver: a new checkpoint as fast as it can, until killed
            os.close(r)
            i = 0
            while True:
                with torch.no_grad():
                    for p in algo.nets.parameters():
                        p.add_(1.0)
                algo.step = i
                save_checkpoint(f"{{out}}/ck{{trial}}.safetensors", algo)
                if i == 0:
                    os.write(w, b"x")
                i += 1
        os.close(w)
        assert os.read(r, 1) == b"x"
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print("killed", len(delays))
    """
)


def test_killed_save_keeps_last_good_checkpoint(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(KILL_SCRIPT.format(tests=str(TESTS)))
    delays = ["0.01", "0.07", "0.19", "0.33"]
    out = subprocess.run([sys.executable, str(script), str(tmp_path), *delays], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == f"killed {len(delays)}", out.stderr[-3000:]
    init = next(tiny("macflow", False, hidden=(256, 256, 256)).nets["critic"].parameters())
    for trial in range(len(delays)):
        ck = load_checkpoint(tmp_path / f"ck{trial}.safetensors")  # never a partial file
        w = next(ck.algo.nets["critic"].parameters())
        # A consistent snapshot: the weights are those of the step the metadata names.
        assert torch.allclose(w - init, torch.full_like(w, ck.algo.step + 1.0))
        assert json.loads((tmp_path / f"ck{trial}.json").read_text())["format_version"] == 1


# -- hostile files ---------------------------------------------------------------


@pytest.fixture
def good(tmp_path):
    algo = tiny("macflow", False)
    algo.update(expert_dataset(CONT, episodes=4))
    return save_checkpoint(tmp_path / "good.safetensors", algo)


def _resave(src: Path, dst: Path, change) -> Path:
    meta, tensors = read_checkpoint(src)
    change(tensors)
    raw = json.loads(json.dumps(meta))
    dst.write_bytes(st.save(tensors, metadata={"macflow_arena": json.dumps(raw)}))
    _stamp(dst)  # a hostile file with a matching checksum: the content checks must still refuse it
    return dst


def _stamp(path: Path) -> None:
    from macflow_arena.integrity import weights_digest as wd

    path.with_suffix(".json").write_text(json.dumps({wd.KEY: wd.digests(path.read_bytes(), path.name)}))


def _first_weight(tensors) -> str:
    return next(k for k in sorted(tensors) if k.startswith("nets.student") and k.endswith("weight"))


@pytest.mark.parametrize(
    "kind,pattern",
    [
        ("header_past_end", "runs past the end of the file"),
        ("huge_header", "exceeds the"),
        ("truncated", "outside the .*data section"),
        ("not_json", "header is not valid JSON"),
        ("empty", "too short"),
        ("bad_dtype", "unsupported dtype"),
        ("overlap", "gap or overlap"),
    ],
)
def test_hostile_framing_refused(good, tmp_path, kind, pattern):
    data = bytearray(good.read_bytes())
    n = int.from_bytes(data[:8], "little")
    bad = tmp_path / "bad.safetensors"
    if kind == "header_past_end":
        data[:8] = (len(data) + 100).to_bytes(8, "little")
    elif kind == "huge_header":
        data[:8] = (2**40).to_bytes(8, "little")
    elif kind == "truncated":
        data = data[:-100]
    elif kind == "not_json":
        data[8:12] = b"\xff\xfe{{"
    elif kind == "empty":
        data = b""
    elif kind in ("bad_dtype", "overlap"):
        header = json.loads(data[8 : 8 + n])
        key = next(k for k in header if k != "__metadata__")
        if kind == "bad_dtype":
            header[key]["dtype"] = "F8_E4M3"
        else:
            other = next(k for k in header if k not in ("__metadata__", key) and header[k]["data_offsets"][1] > header[key]["data_offsets"][1])
            header[other]["data_offsets"] = [0, header[other]["data_offsets"][1] - header[other]["data_offsets"][0]]
        h = json.dumps(header).encode()
        h += b" " * (-len(h) % 8)
        data = len(h).to_bytes(8, "little") + h + data[8 + n :]
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=pattern):
        load_checkpoint(bad)


def _wrong_shape(t):
    k = _first_weight(t)
    t[k] = torch.zeros(t[k].shape[0] + 1, t[k].shape[1])


def _wrong_dtype(t):
    k = _first_weight(t)
    t[k] = t[k].double()


def _missing(t):
    del t[_first_weight(t)]


def _extra(t):
    t["nets.student.backdoor"] = torch.zeros(3)


def _nan(t):
    k = _first_weight(t)
    t[k] = t[k].clone()
    t[k][0, 0] = float("nan")


def _nan_optim(t):
    k = next(k for k in sorted(t) if k.endswith("exp_avg"))
    t[k] = t[k].clone()
    t[k].view(-1)[0] = float("inf")


@pytest.mark.parametrize(
    "change,pattern",
    [
        (_wrong_shape, r"nets\.student\..*(has shape \[(\d+), (\d+)\], the config builds \[\d+, \3\]|expected torch.float32)"),
        (_wrong_dtype, r"nets\.student\..*got torch.float64"),
        (_missing, r"missing \['nets\.student"),
        (_extra, r"unexpected \['nets\.student\.backdoor'\]"),
        (_nan, r"nets\.student\..*contains NaN"),
        (_nan_optim, r"optim\.main\.\d+\.exp_avg: contains NaN or inf"),
    ],
    ids=["wrong_shape", "wrong_dtype", "missing_key", "extra_key", "nan_weight", "inf_optimizer_state"],
)
def test_hostile_contents_refused(good, tmp_path, change, pattern):
    bad = _resave(good, tmp_path / "bad.safetensors", change)
    with pytest.raises(CheckpointError, match=pattern):
        load_checkpoint(bad)


def test_not_our_checkpoint_and_newer_format(good, tmp_path):
    plain = tmp_path / "plain.safetensors"
    st.save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not a macflow-arena checkpoint"):
        load_checkpoint(plain)
    meta, tensors = read_checkpoint(good)
    meta["format_version"] = 99
    newer = tmp_path / "newer.safetensors"
    newer.write_bytes(st.save(tensors, metadata={"macflow_arena": json.dumps(meta)}))
    _stamp(newer)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(newer)


def test_team_for_other_env_says_so(good):
    from macflow_arena.algos import TeamSpec

    with pytest.raises(CheckpointError, match="obs_dim: trained with 6, env has 14"):
        load_checkpoint(good, spec=TeamSpec(3, 14, 2))


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".safetensors"])
def test_pickled_file_refused_and_runs_nothing(tmp_path, suffix):
    import pickle

    marker = tmp_path / "pwned"
    evil = tmp_path / f"evil{suffix}"
    evil.write_bytes(pickle.dumps({"state": _Evil(marker)}, protocol=4))
    with pytest.raises(CheckpointError, match="pickled|never loaded"):
        load_checkpoint(evil)
    assert not marker.exists()
    # A torch.save zip archive under a safetensors name is refused too.
    zipped = tmp_path / f"zipped{suffix}"
    torch.save({"w": torch.zeros(2)}, zipped)
    with pytest.raises(CheckpointError, match="pickled|never loaded"):
        load_checkpoint(zipped)


UNSAFE = [
    (re.compile(r"^\s*(import|from)\s+(pickle|cPickle|_pickle|dill|cloudpickle|joblib)\b"), "imports a pickle module"),
    (re.compile(r"\b(pickle|dill|cloudpickle)\.(load|loads|Unpickler)\b"), "unpickles"),
    (re.compile(r"allow_pickle\s*=\s*True"), "numpy allow_pickle=True"),
    (re.compile(r"\btorch\.save\("), "torch.save writes a pickle"),
]


def test_no_unpickling_in_package():
    bad = []
    for path in sorted((ROOT / "macflow_arena").rglob("*.py")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            for rx, why in UNSAFE:
                if rx.search(line):
                    bad.append(f"{path.relative_to(ROOT)}:{i}: {why}: {line.strip()}")
            if "torch.load(" in line and "weights_only=True" not in line:
                bad.append(f"{path.relative_to(ROOT)}:{i}: torch.load without weights_only=True: {line.strip()}")
    assert not bad, "\n".join(bad)
