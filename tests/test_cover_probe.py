"""benchmarks/cover_probe.py: the measurements quality.md quotes about particle/cover."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _script_helpers import load_benchmark  # noqa: E402


@pytest.fixture(scope="module")
def probe():
    return load_benchmark("cover_probe")


def test_expert_thrusts_then_coasts_onto_its_landmark(probe):
    rows = probe.expert_profile("particle/cover")
    assert len(rows) == 30
    _, d0, v0, u0 = rows[0]
    assert v0 == 0 and u0 > 0.99 and d0 > 0.7
    assert all(u < 0.05 for _, _, _, u in rows[10:])  # coasting: near-zero actions
    assert rows[-1][1] < 0.01  # ... yet it arrives


class _Still:
    """A team that never moves (what BC learns at step 0 on cover)."""

    device = "cpu"

    def act(self, obs, generator, avail=None):
        return torch.zeros(obs.shape[0], obs.shape[1], 2)


def test_handoffs_separate_the_first_decision_from_the_follow_through(probe):
    still = _Still()
    assert probe.handoff_coverage(still, "particle/cover", 0, worlds=16) == 0.0
    # The script for every step covers every landmark; for only 3 steps, coasting alone falls short.
    assert probe.handoff_coverage(still, "particle/cover", 30, worlds=16) == 1.0
    assert probe.handoff_coverage(still, "particle/cover", 3, worlds=16) < 1.0
