"""MAC-Flow's ``flow_weight``: 0 skips the teacher's loss where nothing reads the teacher
(centre on the recorded actions), and then changes nothing else about the update."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import single_and_stacked, tiny  # noqa: E402

from macflow_arena.algos import random_batch  # noqa: E402
from macflow_arena.algos.macflow import MACFlowConfig  # noqa: E402

DATA_CENTRE = dict(centre_fraction=1.0, centre_target="data")


def _train(discrete: bool, updates: int = 4, **kw):
    algo = tiny("macflow", discrete, seed=5, **DATA_CENTRE, **kw)
    init = {n: p.detach().clone() for n, p in algo.nets["teacher"].named_parameters()}
    g = torch.Generator().manual_seed(11)
    logs = [algo.update(random_batch(algo.spec, 16, 1, generator=g)) for _ in range(updates)]
    return algo, init, logs


@pytest.mark.parametrize("discrete", [False, True], ids=["cont", "disc"])
def test_no_teacher_loss_leaves_students_and_critics_as_they_were(discrete):
    on, _, _ = _train(discrete)
    off, init, logs = _train(discrete, flow_weight=0.0)
    for net in ("student", "critic", "target_critic"):
        for (n, a), b in zip(on.nets[net].named_parameters(), off.nets[net].parameters()):
            assert torch.equal(a, b), f"{net}.{n}"
    # the teacher did not move and its loss was not computed
    for n, p in off.nets["teacher"].named_parameters():
        assert torch.equal(p, init[n]), n
    assert all(log["actor/flow_loss"] == 0.0 for log in logs)
    moved = any(not torch.equal(p, init[n]) for n, p in on.nets["teacher"].named_parameters())
    assert moved, "with flow_weight=1 the teacher trains"


def test_flow_weight_zero_needs_students_that_do_not_distil_the_teacher():
    with pytest.raises(ValueError, match="centre_fraction=1.0,centre_target=data"):
        MACFlowConfig(flow_weight=0.0)
    with pytest.raises(ValueError, match="centre_fraction=1.0,centre_target=data"):
        MACFlowConfig(flow_weight=0.0, centre_fraction=0.5, centre_target="data")
    with pytest.raises(ValueError, match="flow_weight must be >= 0"):
        MACFlowConfig(flow_weight=-1.0)
    MACFlowConfig(flow_weight=0.0, **DATA_CENTRE)  # the recipe it is for


def test_a_seed_stack_without_the_teacher_loss_matches_single_runs():
    seeds = [0, 4]
    single, stack = single_and_stacked("macflow", True, seeds, flow_weight=0.0, **DATA_CENTRE)
    for a, b, s in zip(single, stack.algos, seeds):
        for net in ("student", "critic"):
            for x, y in zip(a.nets[net].parameters(), b.nets[net].parameters()):
                torch.testing.assert_close(y, x, rtol=1e-3, atol=1e-4)
        fresh = tiny("macflow", True, seed=s, flow_weight=0.0, **DATA_CENTRE)  # the teacher as initialised
        for (n, p), q in zip(b.nets["teacher"].named_parameters(), fresh.nets["teacher"].parameters()):
            assert torch.equal(p, q), n
