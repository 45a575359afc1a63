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

