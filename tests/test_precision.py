"""``train --precision``: bfloat16 autocast of the losses on CPU (weights, optimizer state and the
networks' outputs stay float32), TF32 refused off CUDA, and the trainer records what it used."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CASE_IDS, CASES, TINY, TINY_EXTRA  # noqa: E402
from _train_helpers import record_tiny, tiny_config  # noqa: E402

from macflow_arena.algos import TeamSpec, make, random_batch  # noqa: E402
from macflow_arena.algos.seed_stack import SeedStack  # noqa: E402
from macflow_arena.envs.layout import blocks  # noqa: E402
from macflow_arena.train.precision import PrecisionError, resolve_precision  # noqa: E402

LAYOUT = [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": blocks(4, 3, 2)},
          {"name": "agents", "index": blocks(10, 2, 2)}]


def _spec(discrete: bool) -> TeamSpec:
    return TeamSpec(n_agents=3, obs_dim=14, action_dim=5 if discrete else 2, discrete=discrete, entities=LAYOUT)


def _algo(name, discrete, seed=0, precision="fp32", **overrides):
    a = make(name, _spec(discrete), "small", seed=seed, **{**TINY, **TINY_EXTRA.get(name, {}), **overrides})
    a.precision = precision
    return a


def test_resolve_precision():
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("auto", "cuda:1") == "tf32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(PrecisionError, match="on CPU use fp32"):
        resolve_precision("tf32", "cpu")
    with pytest.raises(PrecisionError, match="use one of auto, fp32, tf32, bf16"):
        resolve_precision("fp16", "cpu")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bf16_updates_run_in_bfloat16_and_keep_float32_weights(case):
    """Same seed, same batches: the bf16 run's losses are the float32 run's to bf16 rounding
    (not bit-equal: the products did run in bfloat16), its weights and Adam state stay float32,
    and it acts in float32."""
    _, name, discrete, overrides = case
    a32 = _algo(name, discrete, **overrides)
    a16 = _algo(name, discrete, precision="bf16", **overrides)
    g = torch.Generator().manual_seed(5)
    for _ in range(3):
        b = random_batch(_spec(discrete), 16, 1, generator=g)
        m32, m16 = a32.update(b), a16.update(b)
        assert m16["loss/total"] == pytest.approx(m32["loss/total"], rel=0.05, abs=0.02)
    s32, s16 = a32.state_dict(), a16.state_dict()
    floats = [k for k in s32 if s32[k].is_floating_point()]
    assert all(s16[k].dtype == torch.float32 for k in floats)
    assert any(not torch.equal(s32[k], s16[k]) for k in floats if k.startswith("nets."))
    obs = torch.randn(4, 3, 14)
    out = a16.act(obs, torch.Generator().manual_seed(0))
    assert out.dtype == (torch.int64 if discrete else torch.float32)


def test_bf16_recurrent_bc_trains():
    a = _algo("bc", True, precision="bf16", memory="gru")
    b = random_batch(_spec(True), 8, 5, generator=torch.Generator().manual_seed(1))
    m = a.update(b)
    assert torch.isfinite(torch.tensor(m["loss/total"]))


def test_bf16_seed_stack_matches_single_bf16_runs():
    """A stacked bf16 update is each seed's single bf16 update, to bfloat16 tolerance."""
    single = [_algo("macflow", False, seed=s, precision="bf16") for s in (0, 1)]
    stack = SeedStack([_algo("macflow", False, seed=s, precision="bf16") for s in (0, 1)])
    g1 = [torch.Generator().manual_seed(10 + s) for s in (0, 1)]
    g2 = [torch.Generator().manual_seed(10 + s) for s in (0, 1)]
    for _ in range(2):
        m1 = [a.update(random_batch(_spec(False), 16, 1, generator=g)) for a, g in zip(single, g1)]
        m2 = stack.update([random_batch(_spec(False), 16, 1, generator=g) for g in g2])
        for a, b in zip(m1, m2):
            assert b["loss/total"] == pytest.approx(a["loss/total"], rel=0.02, abs=0.01)


def test_train_records_precision_and_refuses_tf32_on_cpu(tmp_path, monkeypatch):
    from macflow_arena.train import precision
    from macflow_arena.train.trainer import TrainError, train

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)  # as on an AVX-512 CPU
    data = record_tiny(tmp_path / "data")
    res = train(tiny_config(data, tmp_path / "bf", algo="bc", steps=3, precision="bf16"), log=None)
    assert res.algo.precision == "bf16" and res.step == 3
    assert json.loads((tmp_path / "bf" / "config.json").read_text())["train"]["precision"] == "bf16"
    again = train(tiny_config(data, tmp_path / "unused", steps=5), resume=str(tmp_path / "bf"), log=None)
    assert again.algo.precision == "bf16" and again.step == 5  # a resumed run keeps its precision
    with pytest.raises(TrainError, match="tf32 is a CUDA"):
        train(tiny_config(data, tmp_path / "tf", algo="bc", precision="tf32"), log=None)
    with pytest.raises(TrainError, match="--precision 'half'"):
        train(tiny_config(data, tmp_path / "h", algo="bc", precision="half"), log=None)
    assert not (tmp_path / "tf").exists() and not (tmp_path / "h").exists()


def test_bf16_on_a_cpu_without_bfloat16_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    """On an AVX2 CPU bfloat16 products fall back to slow kernels (7x a float32 macflow update):
    train refuses and names fp32; benchmarks may still time it."""
    from macflow_arena.train import precision
    from macflow_arena.train.trainer import TrainError, train

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    data = record_tiny(tmp_path / "data")
    with pytest.raises(TrainError, match=r"lacks what torch's fast bfloat16 kernels need.*Use --precision fp32"):
        train(tiny_config(data, tmp_path / "bf", algo="bc", precision="bf16"), log=None)
    assert not (tmp_path / "bf").exists()
    a = _algo("bc", False)
    assert precision.apply_precision(a, "bf16", "cpu", allow_slow_bf16=True) == "bf16" and a.precision == "bf16"
    assert precision.apply_precision(a, "auto", "cpu") == "fp32"  # the default never asks for it

