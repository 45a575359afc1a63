"""``Algorithm.update_device``: the update without host syncs matches ``update`` and skips bad steps."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, expert_dataset, spec_for, tiny  # noqa: E402

from macflow_arena.algos.batch import BatchError  # noqa: E402
from macflow_arena.algos.device_step import read_steps  # noqa: E402


def _batches(discrete: bool, n: int):
    from macflow_arena.algos import random_batch

    g = torch.Generator().manual_seed(5)
    return [random_batch(spec_for(discrete), 16, 2, generator=g) for _ in range(n)]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_device_updates_match_host_updates(case):
    _, name, discrete, overrides = case
    host, dev = tiny(name, discrete, **overrides), tiny(name, discrete, **overrides)
    batches = _batches(discrete, 3)
    want = [host.update(b) for b in batches]
    got = read_steps([dev.update_device(b) for b in batches])
    assert [sorted(m) for m in got] == [sorted(m) for m in want]
    for w, g in zip(want, got):
        assert all(g[k] == pytest.approx(w[k], rel=1e-5, abs=1e-6) for k in w)
    a, b = host.state_dict(), dev.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    assert dev.step == host.step == 3


@pytest.mark.parametrize("name,discrete", [("macflow", False), ("bc", True)])
def test_nan_batch_is_skipped_then_named(name, discrete):
    algo = tiny(name, discrete)
    good, bad = _batches(discrete, 2)
    bad = bad.clone()
    bad.obs.view(-1)[3] = float("nan")
    algo.update_device(good)
    before = {k: v.clone() for k, v in algo.state_dict().items() if k.startswith(("nets.student", "nets.policy", "optim."))}
    steps = [algo.update_device(bad)]
    after = algo.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no trained weight, moment or step count moved
    with pytest.raises(BatchError, match=rf"^{name}, update 2 \(skipped\): obs: contains NaN"):
        read_steps(steps)


def test_nonfinite_loss_is_skipped_then_named():
    algo = tiny("macflow", False)
    b = expert_dataset(spec_for(False), episodes=4)
    with torch.no_grad():
        next(algo.nets["student"].parameters()).view(-1)[0] = float("inf")
    before = {k: v.clone() for k, v in algo.state_dict().items() if k.startswith(("nets.student", "nets.critic", "optim."))}
    s = algo.update_device(b)
    after = algo.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(FloatingPointError, match="non-finite .* at update 1"):
        read_steps([s])


def test_read_steps_of_nothing():
    assert read_steps([]) == []


def test_trainer_reads_in_runs_and_stops_before_a_checkpoint_after_a_bad_update(tmp_path, monkeypatch):
    """The trainer reads its metrics every READ_EVERY updates: a non-finite update is named when
    read, before the next checkpoint is written; the run's earlier checkpoint stays."""
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.algos import bc
    from macflow_arena.train.trainer import READ_EVERY, train

    data = record_tiny(tmp_path / "data", episodes=8)
    real, calls = bc.BC.losses, []

    def losses(self, batch):
        calls.append(1)
        total, m = real(self, batch)
        return (total * float("inf") if len(calls) == READ_EVERY + 4 else total), m

    monkeypatch.setattr(bc.BC, "losses", losses)
    out = tmp_path / "run"
    cfg = tiny_config(data, out, algo="bc", steps=3 * READ_EVERY, ckpt_every=READ_EVERY, log_every=READ_EVERY)
    with pytest.raises(FloatingPointError, match=f"at update {READ_EVERY + 4} "):
        train(cfg, log=None)
    assert len(calls) == 2 * READ_EVERY  # read at update 20, before its checkpoint
    ckpts = sorted(p.name for p in (out / "checkpoints").glob("*.safetensors"))
    assert ckpts == [f"step-{READ_EVERY:08d}.safetensors"]  # update 20's is not written
    logged = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert logged == [READ_EVERY]


def test_trainer_history_is_every_update(tmp_path):
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.train.trainer import train

    data = record_tiny(tmp_path / "data", episodes=8)
    res = train(tiny_config(data, tmp_path / "run", algo="bc", steps=23, ckpt_every=0, log_every=7), log=None)
    assert [m["step"] for m in res.history] == list(range(1, 24))
    assert all(torch.isfinite(torch.tensor(m["loss/total"])) for m in res.history)


@pytest.mark.parametrize("name,discrete", [("macflow", False), ("td3bc", False), ("bc", True)])
def test_stacked_device_updates_match_and_skip_every_seed(name, discrete):
    from macflow_arena.algos import random_batch
    from macflow_arena.algos.seed_stack import SeedStack

    seeds = [0, 3]
    host = SeedStack([tiny(name, discrete, seed=s) for s in seeds])
    dev = SeedStack([tiny(name, discrete, seed=s) for s in seeds])
    gs = [torch.Generator().manual_seed(50 + s) for s in seeds]
    batches = [[random_batch(spec_for(discrete), 16, 1, generator=g) for g in gs] for _ in range(3)]
    want = [host.update(b) for b in batches]
    got = read_steps([s for b in batches for s in dev.update_device(b)])
    assert len(got) == 6
    for k in range(3):
        for j in range(2):
            w, g = want[k][j], got[2 * k + j]
            assert all(g[m] == pytest.approx(w[m], rel=1e-5, abs=1e-6) for m in w)
    host.write_back()
    dev.write_back()
    for a, b in zip(host.algos, dev.algos):
        sa, sb = a.state_dict(), b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    bad = [b.clone() for b in batches[0]]
    bad[1].rewards.view(-1)[0] = float("inf")
    trained = ("optim.", "nets.critic", "nets.student", "nets.teacher", "nets.policy", "nets.actor")
    before = [{k: v.clone() for k, v in a.state_dict().items() if k.startswith(trained)} for a in dev.algos]
    steps = dev.update_device(bad)
    dev.write_back()
    for a, b in zip(dev.algos, before):
        after = a.state_dict()
        assert len(b) > 4 and all(torch.equal(b[k], after[k]) for k in b)  # neither seed's weights moved
    with pytest.raises(BatchError, match=f"^{name} seed 3, update 4 \\(skipped\\): rewards: contains NaN or inf"):
        read_steps(steps)


# --compile graph: the capture logic, run on CPU through the EagerGraph stand-in --------------------------


@pytest.mark.parametrize("name,discrete", [("macflow", False), ("td3bc", False), ("bc", True), ("vdn_cql", True)])
def test_captured_update_matches_device_updates(name, discrete):
    """Static batch buffers, the step count, per-replay metrics, lr tensors written in place and one
    graph per set of active optimizers (td3bc's delayed actor): the same updates as update_device."""
    from macflow_arena.algos import random_batch
    from macflow_arena.algos.captured import CapturedUpdate, EagerGraph, set_group_lr

    ref, cap = tiny(name, discrete), tiny(name, discrete)
    run = CapturedUpdate(cap.update_device, cap, cap.optimizers, [cap.gen], "cpu", warmup=2, make_graph=EagerGraph)
    g = torch.Generator().manual_seed(1)
    batches = [random_batch(spec_for(discrete), 16, 1, generator=g) for _ in range(7)]
    want, got = [], []
    for i, b in enumerate(batches):
        for a in (ref, cap):
            for o in a.optimizers.values():
                for grp in o.param_groups:
                    set_group_lr(grp, 1e-3 * (1 - i / 10))
        want.append(ref.update_device(b))
        got.append(run(b))
    assert [s.step for s in got] == list(range(1, 8)) and cap.step == 7
    assert all(isinstance(grp["lr"], torch.Tensor) for o in cap.optimizers.values() for grp in o.param_groups)
    assert len(run.graphs) == (2 if name == "td3bc" else 1)
    for w, v in zip(read_steps(want), read_steps(got)):
        assert all(v[k] == pytest.approx(w[k], rel=1e-4, abs=1e-6) for k in w)
    a, b = ref.state_dict(), cap.state_dict()
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-4) for k in a if k != "rng.train")


def test_captured_update_refuses_another_batch_shape():
    from macflow_arena.algos import random_batch
    from macflow_arena.algos.captured import CapturedUpdate, EagerGraph

    algo = tiny("bc", False)
    run = CapturedUpdate(algo.update_device, algo, algo.optimizers, [algo.gen], "cpu", warmup=0, make_graph=EagerGraph)
    g = torch.Generator().manual_seed(1)
    run(random_batch(spec_for(False), 16, 1, generator=g))
    with pytest.raises(ValueError, match=r"one batch shape: obs is \(8, 2, 3, 6\)"):
        run(random_batch(spec_for(False), 8, 1, generator=g))


def test_compile_graph_needs_cuda(tmp_path):
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.train.trainer import TrainError, train

    data = record_tiny(tmp_path / "data", episodes=8)
    with pytest.raises(TrainError, match="--compile graph .* needs --device cuda, not cpu"):
        train(tiny_config(data, tmp_path / "run", algo="bc", compile="graph"), log=None)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("seeds", [None, [0, 1]])
def test_trainer_with_the_graph_stand_in_matches_eager(tmp_path, monkeypatch, seeds):
    """``--compile graph`` in the trainer (single run and stacked seeds), the CUDA graph replaced by
    EagerGraph: the same weights as ``--compile off`` after warm-up, capture and replays, lr schedule on."""
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.algos import captured
    from macflow_arena.train.seeds import train_seeds
    from macflow_arena.train.trainer import train

    data = record_tiny(tmp_path / "data", episodes=8)
    monkeypatch.setattr(captured, "require_cuda", lambda device: None)
    monkeypatch.setattr(captured, "CudaGraph", captured.EagerGraph)

    def run(mode):
        out = tmp_path / mode / ("{seed}" if seeds else "run")
        cfg = tiny_config(data, out, algo="macflow", steps=9, ckpt_every=0, log_every=3, compile=mode)
        if seeds is None:
            return [train(cfg, log=None)]
        return train_seeds(cfg, seeds, stack="on", log=None)

    for off, graph in zip(run("off"), run("graph")):
        a, b = off.algo.state_dict(), graph.algo.state_dict()
        assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-4) for k in a if k != "rng.train")
        assert [m["step"] for m in graph.history] == list(range(1, 10))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_update_device_reads_nothing_on_the_host(case, monkeypatch):
    """What would be a host sync on CUDA (``bool``, ``float``, ``int``, ``.item()``, ``.tolist()``,
    ``.numpy()`` of a tensor) is refused while ``update_device`` runs: a CUDA graph could not hold it."""
    _, name, discrete, overrides = case
    algo = tiny(name, discrete, **overrides)
    batches = _batches(discrete, 3)
    algo.update_device(batches[0])  # first-call setup (optimizer state) may read what it likes

    def refuse(self, *a, **k):
        raise AssertionError("a host read of a tensor inside update_device")

    for attr in ("__bool__", "__float__", "__int__", "__index__", "item", "tolist", "numpy"):
        monkeypatch.setattr(torch.Tensor, attr, refuse)
    out = [algo.update_device(b) for b in batches[1:]]
    monkeypatch.undo()
    assert len(read_steps(out)) == 2


def test_read_cadence_per_device():
    from macflow_arena.train.trainer import READ_EVERY, read_every

    for log_every in (0, 1, 100):
        assert read_every(log_every, "cpu") == READ_EVERY
    assert read_every(100, "cuda") == 100
    assert read_every(1, "cuda:0") == READ_EVERY
    assert read_every(0, "cuda") == READ_EVERY


def test_a_failed_capture_names_the_way_out(tmp_path, monkeypatch):
    from _train_helpers import record_tiny, tiny_config

    from macflow_arena.algos import captured
    from macflow_arena.train.trainer import TrainError, train

    class Broken(captured.EagerGraph):
        def capture(self, fn):
            raise RuntimeError("operation not permitted when stream is capturing\nmore")

    data = record_tiny(tmp_path / "data", episodes=8)
    monkeypatch.setattr(captured, "require_cuda", lambda device: None)
    monkeypatch.setattr(captured, "CudaGraph", Broken)
    cfg = tiny_config(data, tmp_path / "run", algo="bc", steps=8, ckpt_every=0, compile="graph")
    with pytest.raises(TrainError, match=r"capture of the update failed \(RuntimeError: operation not permitted "
                                         r"when stream is capturing\)\. Train with --compile off"):
        train(cfg, log=None)
