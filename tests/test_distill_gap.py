"""benchmarks/distill_gap.py: the action-error table and the distillation probe quality.md quotes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _script_helpers import load_benchmark  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from macflow_arena.algos.registry import make
    from macflow_arena.data import record_dataset
    from macflow_arena.train.data import load_device_dataset

    mod = load_benchmark("distill_gap")
    path = tmp_path_factory.mktemp("dg") / "spread-expert"
    record_dataset("particle/spread", path, behaviour={"name": "scripted"}, quality="expert", episodes=6, num_envs=6)
    data = load_device_dataset(path, "particle/spread")
    algo = make("macflow", data.spec, None, seed=0, hidden=(32, 32))
    algo.set_obs_stats(data.obs_mean, data.obs_std)
    held = algo.prepare(data.sample_transitions(64, torch.Generator().manual_seed(1), n_step=1, gamma=0.99))
    return mod, data, algo, held


def test_gaps_score_student_and_teacher_against_the_data(setup):
    mod, _, algo, held = setup
    g = mod.gaps(algo, held)
    assert set(g) == {"student, centre", "teacher K=10, centre", "teacher K=2, centre", "student, one draw",
                      "teacher K=10, one draw"}
    from macflow_arena.algos.nets import euler

    o = algo.with_id(held.obs[:, :-1])
    z0 = torch.zeros(o.shape[0], 1, algo.spec.n_agents, algo.spec.action_dim)
    with torch.no_grad():
        want = ((euler(algo.nets["teacher"], o, z0, 2, "x1").clamp(-1, 1) - held.actions) ** 2).mean()
    assert g["teacher K=2, centre"] == pytest.approx(float(want))


def test_probe_students_learn_their_target(setup):
    mod, data, algo, held = setup
    before_data, before_teacher = mod.probe(algo, data, held, steps=0, rows=32, lr=1e-2, target="data")
    after_data, _ = mod.probe(algo, data, held, steps=60, rows=32, lr=1e-2, target="data")
    _, after_teacher = mod.probe(algo, data, held, steps=60, rows=32, lr=1e-2, target="centre")
    assert after_data < 0.5 * before_data  # regression on the data's actions fits them
    assert after_teacher < 0.5 * before_teacher  # distillation fits the frozen teacher's centre


def test_discrete_runs_get_argmax_agreement(setup, tmp_path):
    """Discrete actions: each policy's masked argmax against the data's action and a reference policy's."""
    mod = setup[0]
    from macflow_arena.algos.registry import make
    from macflow_arena.data import record_dataset
    from macflow_arena.train.data import load_device_dataset

    path = tmp_path / "3m-medium"
    record_dataset("skirmish/3m", path, behaviour={"name": "scripted"}, quality="medium", episodes=4, num_envs=4)
    data = load_device_dataset(path, "skirmish/3m")
    algo = make("macflow", data.spec, None, seed=0, hidden=(32, 32))
    algo.set_obs_stats(data.obs_mean, data.obs_std)
    held = algo.prepare(data.sample_transitions(64, torch.Generator().manual_seed(1), n_step=1, gamma=0.99))
    res = mod.agreement(algo, held, ref=held.actions[:, 0])
    mode = f"teacher K=10, mode of {mod.MODE_DRAWS} draws"
    assert set(res) == {"student, centre ~ data", "teacher K=10, centre ~ data", "student, centre ~ reference",
                        "teacher K=10, centre ~ reference", "student ~ teacher, one draw",
                        f"{mode} ~ data", f"{mode} ~ reference"}
    assert res["student, centre ~ data"] == res["student, centre ~ reference"]  # the reference is the data here
    # the mode is the teacher's vote over draws: with one draw, that draw's masked argmax
    from macflow_arena.algos.base import sanitize_avail
    from macflow_arena.algos.nets import euler, masked_argmax

    o, alive = algo.with_id(algo._obs_in(held.obs[:, 0])), held.alive[:, 0] > 0
    x0 = torch.randn(o.shape[0], *held.actions.shape[-1:], data.spec.action_dim, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        one = masked_argmax(euler(algo.nets["teacher"], o, x0, 10, algo.config.flow_target), sanitize_avail(held.avail[:, 0]))
    mod.MODE_DRAWS, keep = 1, mod.MODE_DRAWS
    try:
        res1 = mod.agreement(algo, held)
    finally:
        mod.MODE_DRAWS = keep
    assert res1["teacher K=10, mode of 1 draws ~ data"] == pytest.approx(
        float((one == held.actions[:, 0])[alive].float().mean()))
    bc = make("bc", data.spec, None, seed=0, hidden=(32, 32))
    bc.set_obs_stats(data.obs_mean, data.obs_std)
    want = bc.act(held.obs[:, 0], torch.Generator().manual_seed(0), avail=held.avail[:, 0])
    alive = held.alive[:, 0] > 0
    got = mod.agreement(bc, held)
    assert set(got) == {"act ~ data"}
    assert got["act ~ data"] == pytest.approx(float((want == held.actions[:, 0])[alive].float().mean()))
