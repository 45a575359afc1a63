"""Every algorithm updates, acts and round-trips a checkpoint on CUDA (skipped
without a GPU; CI has none)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

from _algo_helpers import CASE_IDS, CASES, expert_dataset, spec_for, tiny  # noqa: E402

from macflow_arena.algos import random_batch  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cuda_update_act_checkpoint(case, tmp_path):
    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    algo = tiny(name, discrete, device="cuda", **overrides)
    assert algo.gen.device.type == "cuda"
    data = expert_dataset(spec, episodes=16).to("cuda")
    g = torch.Generator().manual_seed(0)
    hist = []
    for _ in range(30):
        idx = torch.randint(0, data.B, (8,), generator=g).cuda()
        hist.append(algo.update(minibatch_on(data, idx)))
    assert all(v == v for m in hist for v in m.values())
    obs = torch.randn(64, spec.n_agents, spec.obs_dim, device="cuda")
    gen = torch.Generator(device="cuda").manual_seed(0)
    avail = random_batch(spec, 64, 1).avail[:, 0].cuda() if discrete else None
    a = algo.act(obs, gen, avail=avail)
    assert a.device.type == "cuda"
    if discrete:
        assert bool(avail.gather(-1, a[..., None]).all())
    pytest.importorskip("safetensors")
    from macflow_arena.algos.checkpoint import load_checkpoint, save_checkpoint

    path = save_checkpoint(tmp_path / "ck.safetensors", algo)
    again = load_checkpoint(path, device="cuda").algo
    s1, s2 = algo.state_dict(), again.state_dict()
    assert all(torch.equal(s1[k].cpu(), s2[k].cpu()) for k in s1)
    b = minibatch_on(data, torch.arange(8, device="cuda"))
    m1, m2 = algo.update(b), again.update(b)  # CUDA scatter-adds may differ in the last bits
    assert m1.keys() == m2.keys() and all(m2[k] == pytest.approx(v, rel=1e-4, abs=1e-6) for k, v in m1.items())
    cpu = load_checkpoint(path, device="cpu").algo  # a GPU checkpoint loads on a CPU
    assert cpu.act(obs.cpu(), torch.Generator().manual_seed(0), avail=None if avail is None else avail.cpu()).shape == a.shape


def minibatch_on(data, idx):
    from macflow_arena.algos import Batch

    return Batch(**{k: (None if v is None else v[idx]) for k, v in data.__dict__.items()})



@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cuda_graph_captured_update(case):
    """``--compile graph``: warm-up, capture and replays of the whole update on a real CUDA graph;
    every replay reads a new batch, steps the weights and reports finite metrics; a NaN batch is skipped."""
    from macflow_arena.algos.captured import CapturedUpdate
    from macflow_arena.algos.device_step import read_steps

    _, name, discrete, overrides = case
    spec = spec_for(discrete)
    algo = tiny(name, discrete, device="cuda", **overrides)
    run = CapturedUpdate(algo.update_device, algo, algo.optimizers, [algo.gen], "cuda", warmup=2)
    g = torch.Generator().manual_seed(0)
    batches = [random_batch(spec, 16, 1, generator=g, device="cuda") for _ in range(8)]
    steps = []
    for b in batches:
        before = [p.detach().clone() for p in algo.nets.parameters() if p.requires_grad]
        steps.append(run(b))
        after = [p for p in algo.nets.parameters() if p.requires_grad]
        assert any(not torch.equal(x, y) for x, y in zip(before, after))
    assert len(run.graphs) >= 1 and algo.step == 8
    ms = read_steps(steps)
    assert all(v == v for m in ms for v in m.values())
    assert len({round(m["loss/total"], 6) for m in ms[-4:]}) > 1  # replays read new batches
    bad = batches[0].clone()
    bad.rewards.view(-1)[0] = float("nan")
    before = {k: v.clone() for k, v in algo.state_dict().items() if k.startswith("optim.")}
    s = run(bad)
    assert all(torch.equal(before[k], algo.state_dict()[k]) for k in before)
    with pytest.raises(ValueError, match="rewards: contains NaN"):
        read_steps([s])
